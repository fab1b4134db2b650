// `npm run lab`: loopback servers for every protocol, serving the device's sample packages, and the
// exact `install` line to paste into the shell for each. Ctrl-C stops them and removes the lab's CA.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { openDevice } from '../firmware-sim/index.js';
import { makeTestPki } from '../lab/certs.js';
import { startFtpServer } from '../lab/ftp-server.js';
import { startHttpServer } from '../lab/http-server.js';
import { startSshServer } from '../lab/ssh-server.js';
import { startPackageTftpServer } from '../lab/tftp-server.js';

const { values } = parseArgs({ options: { device: { type: 'string', default: '.device' } } });
const deviceDir = values.device!;
const device = await openDevice(deviceDir, {
  session: { user: userInfo().username, id: `lab pid ${process.pid}` },
});

// Serve what the simulated USB stick holds: the sample packages (and the unlock token).
const files: Record<string, Buffer> = {};
for (const name of (await readdir(device.paths.usbStick)).sort()) {
  if (name.endsWith('.wmopkg') || name.endsWith('.lic'))
    files[name] = await readFile(join(device.paths.usbStick, name));
}
if (Object.keys(files).length === 0) {
  console.error(`Error: no packages in ${device.paths.usbStick}`);
  process.exit(1);
}

const user = 'lab';
// A fresh password each run, shown only here: the shell asks for it and never shows or logs it.
const password = randomBytes(6).toString('base64url');
const pki = makeTestPki();
const caFile = join(device.paths.caDir, 'edgesh-lab-ca.pem');
await writeFile(caFile, pki.caCert);
const tftpRoot = await mkdtemp(join(tmpdir(), 'edgesh-lab-tftp-'));

const servers = {
  ftp: await startFtpServer({ files, user, password }),
  tftp: await startPackageTftpServer(tftpRoot, files),
  ssh: await startSshServer({ files, user, password }),
  http: await startHttpServer({ files }),
  https: await startHttpServer({ files, tls: { key: pki.serverKey, cert: pki.serverCert } }),
};

const sample = files['hello.wmopkg'] ? 'hello.wmopkg' : Object.keys(files)[0]!;
const fingerprint = `SHA256:${createHash('sha256').update(servers.ssh.hostKeyBlob).digest('base64').replace(/=+$/, '')}`;
const lines = [
  ['ftp', `install proto ftp user ${user} 127.0.0.1:${servers.ftp.port} ${sample}`],
  ['tftp', `install proto tftp 127.0.0.1:${servers.tftp.port} ${sample}`],
  ['sftp', `install proto sftp user ${user} 127.0.0.1:${servers.ssh.port} ${sample}`],
  ['scp', `install proto scp user ${user} 127.0.0.1:${servers.ssh.port} ${sample}`],
  ['http', `install proto http 127.0.0.1:${servers.http.port} ${sample}`],
  ['https', `install proto https 127.0.0.1:${servers.https.port} ${sample}`],
  ['default', `install user ${user} 127.0.0.1:${servers.ftp.port} ${sample}`],
];
console.log(`edgesh lab: serving ${Object.keys(files).join(', ')}
from ${relative(process.cwd(), device.paths.usbStick) || '.'} on 127.0.0.1. In the shell (npm start), in the package context:
`);
for (const [proto, line] of lines)
  console.log(`  ${line}${proto === 'default' ? '   (ftp, with tftp as fallback)' : ''}`);
console.log(`
  ftp, sftp and scp ask for the password of user ${user}: ${password}
  sftp and scp ask whether to trust the lab's host key: ${fingerprint}
  https works because the device trusts the lab's CA: ${relative(process.cwd(), caFile)}

Ctrl-C stops the lab.`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.allSettled(Object.values(servers).map((server) => server.close()));
  await rm(caFile, { force: true });
  await rm(tftpRoot, { recursive: true, force: true });
  console.log('edgesh lab: stopped.');
  process.exit(0);
}
// ftp-srv installs its own SIGINT/SIGTERM handlers that exit at once; ours must run first and last.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.removeAllListeners(signal);
  process.on(signal, () => void stop());
}
