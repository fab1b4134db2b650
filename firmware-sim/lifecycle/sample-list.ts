// The files of the simulated USB stick, by name, with what each one shows.

/**
 * What each sample shows; the file names are what operators type (the firmware's is that of a device
 * running the default firmware: the sample is always the next version of the device's).
 */
export const SAMPLES = {
  'hello.wmopkg': 'signed by the vendor: a program and its configuration file',
  'netdiag.wmopkg': 'unsigned: installed with a warning, activated only with allow-untrusted',
  'mgmt-agent.wmopkg': 'signed, worth installing persistent: survives a factory reset',
  'motd.wmopkg': 'signed, overwrites /etc/motd of the firmware, has preinst/postinst/prerm/postrm',
  'thirdparty.wmopkg': 'signed by a key the device does not trust: Untrusted',
  'firmware-5.27.0.wmopkg':
    'the next firmware (for a device running 5.26.0): written into the other slot at the next reboot',
  'fix-1.wmopkg': 'a hotfix for firmware 5.26.0: removed when the firmware changes',
  'hello-remove.wmopkg': 'a removal package: installed, it removes hello',
  'mgmt-agent-remove-backup.wmopkg':
    'a removal package made with --backup: removes mgmt-agent, from the backup too',
  'token.lic': 'unlock token for this device serial (secure boot: allows allow-untrusted)',
} as const;
