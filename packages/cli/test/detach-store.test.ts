/**
 * What a detached supervisor of a distributed run is handed: the password only as a value for the
 * engine's owner-only file (never an argument), and the variables that name files as absolute paths.
 */
import { describe, expect, it } from 'vitest';
import { storeHandover } from '../src/commands/run/distributed.js';

describe('the handover to a detached distributed supervisor', () => {
  it('passes the password as a value and the file variables as absolute paths', async () => {
    const h = await storeHandover(
      {
        ORCH_REDIS_PASSWORD: 's3cret',
        ORCH_REDIS_PASSWORD_FILE: 'ignored.pass',
        ORCH_REDIS_CA_FILE: 'tls/ca.crt',
        ORCH_RUN_KEY_FILE: '/keys/run.key',
        ORCH_OTHER: 'not handed over',
      },
      '/srv/app',
    );
    // The password given directly wins; its file is not handed over as well.
    expect(h).toEqual({
      password: 's3cret',
      fileEnv: { ORCH_REDIS_CA_FILE: '/srv/app/tls/ca.crt', ORCH_RUN_KEY_FILE: '/keys/run.key' },
    });
  });

  it('hands over the password file as a path when no password is in the environment', async () => {
    const h = await storeHandover(
      {
        ORCH_REDIS_PASSWORD_FILE: 'redis.pass',
        ORCH_REDIS_CERT_FILE: '/c.pem',
        ORCH_REDIS_KEY_FILE: '/k.pem',
      },
      '/w',
    );
    expect(h).toEqual({
      fileEnv: {
        ORCH_REDIS_PASSWORD_FILE: '/w/redis.pass',
        ORCH_REDIS_CERT_FILE: '/c.pem',
        ORCH_REDIS_KEY_FILE: '/k.pem',
      },
    });
  });
});
