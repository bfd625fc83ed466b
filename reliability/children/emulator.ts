/**
 * The WeCom emulator (src/emulator) in a process of its own for the reliability suites, with its
 * members and group robots taken from the org config, plus a small control server for what the
 * emulator's own HTTP API does not offer: fault injection and going down and up again.
 *
 *   POST /faults  {"n": 5, "fault": {"kind": "accept_then_drop"}, "path": "/cgi-bin/message/send"}
 *   POST /faults/clear
 *   POST /down    stop listening (connections refused), state kept
 *   POST /up      listen again on the same port
 *   GET  /state   every chat and group, and the counters (as GET /_emulator/api/state)
 *
 * Environment: EMULATOR_PORT, EMULATOR_CONTROL_PORT, EMULATOR_CALLBACK_URL, LEADRELAY_CONFIG and the
 * WECOM_* credentials the server uses. Announces the control server's URL (lib/announce.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadOrgConfig } from '../../src/config/load-org-config';
import { createEmulator } from '../../src/emulator/create-emulator';
import type { Fault } from '../../src/emulator/wecom/types';
import { announce, envNumber } from '../lib/announce';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  const org = loadOrgConfig(required('LEADRELAY_CONFIG'), process.env);
  const members = org.members
    .filter((m) => m.platforms.wecom)
    .map((m) => ({ userid: m.platforms.wecom!, name: m.name }));
  const groupRobots = org.teams.flatMap((t) =>
    t.digest?.robot?.wecom ? [{ key: t.digest.robot.wecom, name: t.name }] : [],
  );
  const emulator = createEmulator({
    callbackTimeoutMs: envNumber('EMULATOR_CALLBACK_TIMEOUT_MS', 5000),
    wecom: {
      corpId: required('WECOM_CORP_ID'),
      corpSecret: required('WECOM_SECRET'),
      agentId: Number(required('WECOM_AGENT_ID')),
      token: required('WECOM_TOKEN'),
      encodingAesKey: required('WECOM_ENCODING_AES_KEY'),
      callbackUrl: required('EMULATOR_CALLBACK_URL'),
      members,
      groupRobots,
    },
  });
  const port = envNumber('EMULATOR_PORT', 0);
  await emulator.start(port);
  let down = false;

  const control = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = chunks.length
          ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>)
          : {};
        const reply = (status: number, value: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        try {
          switch (`${req.method} ${req.url}`) {
            case 'POST /faults':
              emulator.control.failNext(
                Number(body.n),
                body.fault as Fault,
                typeof body.path === 'string' ? { path: body.path } : {},
              );
              return reply(200, { ok: true });
            case 'POST /faults/clear':
              emulator.control.clearFaults();
              return reply(200, { ok: true });
            case 'POST /down':
              if (!down) {
                down = true;
                await emulator.stop();
              }
              return reply(200, { ok: true });
            case 'POST /up':
              if (down) {
                await emulator.start(port);
                down = false;
              }
              return reply(200, { ok: true });
            case 'GET /state':
              return reply(200, emulator.state.snapshot());
            default:
              return reply(404, { error: 'no such control route' });
          }
        } catch (error) {
          reply(500, { error: (error as Error).message });
        }
      })();
    });
  });
  await new Promise<void>((resolve) =>
    control.listen(envNumber('EMULATOR_CONTROL_PORT', 0), '127.0.0.1', resolve),
  );
  const { port: controlPort } = control.address() as AddressInfo;
  announce({
    url: `http://127.0.0.1:${controlPort}`,
    async stop() {
      control.close();
      await emulator.stop();
    },
  });
}

main().catch((error: unknown) => {
  console.error('reliability emulator child failed:', error);
  process.exit(1);
});
