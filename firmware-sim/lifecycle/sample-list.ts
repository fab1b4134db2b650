// The files of the simulated USB stick, by name, with what each one shows.

/** What each sample shows; the file names are what operators type. */
export const SAMPLES = {
  'hello.wmopkg': 'signed by the vendor: a program and its configuration file',
  'netdiag.wmopkg': 'unsigned: installed with a warning, activated only with allow-untrusted',
  'mgmt-agent.wmopkg': 'signed, worth installing persistent: survives a factory reset',
  'motd.wmopkg': 'signed, overwrites /etc/motd of the firmware, has preinst/postinst/prerm/postrm',
  'thirdparty.wmopkg': 'signed by a key the device does not trust: Untrusted',
  'token.lic': 'unlock token for this device serial (secure boot: allows allow-untrusted)',
} as const;
