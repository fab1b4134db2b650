// The firmware's own files in a new device's root file system (and in the sample firmware package).

/** Files of the firmware itself in a new rootfs; `motd.wmopkg` overwrites the first one. */
export function baseFirmwareFiles(hostname: string, firmwareVersion: string): Record<string, string> {
  return {
    'etc/motd': `Welcome to ${hostname}. Firmware ${firmwareVersion}.\n`,
    'etc/issue': `Example Networks firmware ${firmwareVersion}\n`,
    'etc/os-release': `NAME="Example Networks firmware"\nVERSION="${firmwareVersion}"\nID=example-fw\n`,
  };
}
