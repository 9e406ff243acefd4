// A second, throwaway Kafka broker that only speaks SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512),
// in the clear on one listener and over TLS on another (a certificate from a CA made here),
// from the same Maven Central jars as scripts/kafka/up.sh. Its SCRAM users are created when
// the storage is formatted (KRaft has no ZooKeeper to hold them).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { ROOT } from '../support/cli.js';
import { waitFor } from '../support/kafka.js';

const run = promisify(execFile);

export const SASL_USERS = {
  plain: { username: 'klaxon-plain', password: 'plain-s3cret-xyzzy' },
  scram: { username: 'klaxon-scram', password: 'scram-s3cret-plugh' },
} as const;
const ADMIN = { username: 'admin', password: 'admin-s3cret' };

export interface SaslBroker {
  /** SASL_PLAINTEXT. */
  brokers: string[];
  /** SASL_SSL, with a certificate for 127.0.0.1 signed by `caFile`. */
  tlsBrokers: string[];
  caFile: string;
  stop(): Promise<void>;
}

/** A CA, and a server key and certificate for 127.0.0.1 it signed, as PEM files in `dir`. */
async function certificates(dir: string): Promise<{ ca: string; server: string }> {
  const ssl = (...args: string[]) => run('openssl', args, { cwd: dir, timeout: 60_000 });
  await ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=klaxon-test-ca');
  await ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext');
  // Kafka's PEM keystore wants a PKCS#8 key followed by the certificate chain, in one file.
  await ssl('pkcs8', '-topk8', '-nocrypt', '-in', 'server.key', '-out', 'server.pk8');
  writeFileSync(join(dir, 'server.pem'), readFileSync(join(dir, 'server.pk8'), 'utf8') + readFileSync(join(dir, 'server.crt'), 'utf8'));
  return { ca: join(dir, 'ca.pem'), server: join(dir, 'server.pem') };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The jars up.sh fetches with Maven (once per pom); fetched here the same way when missing. */
async function libs(): Promise<string> {
  const dir = process.env.KAFKA_LIBS ?? join(ROOT, '.cache', 'kafka', 'libs');
  if (existsSync(join(dir, '.pom.sha256'))) return dir;
  await run('mvn', ['-B', '-q', '-f', join(ROOT, 'scripts/kafka/pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${dir}`], {
    timeout: 240_000,
  });
  return dir;
}

export async function startSaslBroker(): Promise<SaslBroker> {
  const lib = await libs();
  const [port, tlsPort, controller] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'klaxon-sasl-kafka-'));
  const certs = await certificates(dir);
  const jaas = (module: string, extra: string) => `${module} required ${extra};`;
  const plainUsers = `username="${ADMIN.username}" password="${ADMIN.password}" user_${ADMIN.username}="${ADMIN.password}" user_${SASL_USERS.plain.username}="${SASL_USERS.plain.password}"`;
  const listenerJaas = (listener: string) => [
    `listener.name.${listener}.plain.sasl.jaas.config=${jaas('org.apache.kafka.common.security.plain.PlainLoginModule', plainUsers)}`,
    `listener.name.${listener}.scram-sha-256.sasl.jaas.config=${jaas('org.apache.kafka.common.security.scram.ScramLoginModule', '')}`,
    `listener.name.${listener}.scram-sha-512.sasl.jaas.config=${jaas('org.apache.kafka.common.security.scram.ScramLoginModule', '')}`,
  ];
  const props = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controller}`,
    `listeners=SASL_PLAINTEXT://127.0.0.1:${port},SASL_SSL://127.0.0.1:${tlsPort},CONTROLLER://127.0.0.1:${controller}`,
    `advertised.listeners=SASL_PLAINTEXT://127.0.0.1:${port},SASL_SSL://127.0.0.1:${tlsPort}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=SASL_PLAINTEXT',
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=PLAIN',
    ...listenerJaas('sasl_plaintext'),
    ...listenerJaas('sasl_ssl'),
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${certs.server}`,
    `log.dirs=${join(dir, 'data')}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
  ];
  writeFileSync(join(dir, 'server.properties'), `${props.join('\n')}\n`);
  writeFileSync(join(dir, 'log4j2.properties'), 'rootLogger.level=WARN\n');
  const jvm = ['-Xms256m', '-Xmx512m', `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`, '-cp', `${lib}/*`];
  const scram = (mech: string) => `${mech}=[name=${SASL_USERS.scram.username},password=${SASL_USERS.scram.password}]`;
  await run(
    'java',
    [...jvm, 'kafka.tools.StorageTool', 'format', '--config', join(dir, 'server.properties'), '--cluster-id', 'a1b2c3d4e5f6g7h8i9j0kQ',
      '--add-scram', scram('SCRAM-SHA-256'), '--add-scram', scram('SCRAM-SHA-512')],
    { timeout: 120_000 },
  );
  const child: ChildProcess = spawn('java', [...jvm, 'kafka.Kafka', join(dir, 'server.properties')], { stdio: 'ignore' });
  const brokers = [`127.0.0.1:${port}`];
  const tlsBrokers = [`127.0.0.1:${tlsPort}`];
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const admin = new Kafka({
      brokers,
      clientId: 'sasl-probe',
      sasl: { mechanism: 'plain', ...ADMIN },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin();
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`the SASL broker exited with ${child.exitCode}`);
        await admin.connect();
        await admin.listTopics();
        await admin.disconnect();
        return true;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: 'the SASL broker to answer' },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { brokers, tlsBrokers, caFile: certs.ca, stop };
}
