import { missingForKind, type KindRequirements } from './kind-requirements.util';

interface Env {
  SYSTEM_DATABASE_URL?: string;
  SYSTEM_ACCESS_TOKEN?: string;
}

const requirements: KindRequirements<Env> = {
  postgres: [['SYSTEM_DATABASE_URL', 'the database to read']],
  hubspot: [['SYSTEM_ACCESS_TOKEN', 'the access token']],
};

describe('missingForKind', () => {
  it('names each variable the kind needs that is not set, and why', () => {
    expect(missingForKind<Env>({ SYSTEM_DATABASE_URL: 'postgres://x' }, 'hubspot', requirements)).toEqual([
      'SYSTEM_ACCESS_TOKEN: required for hubspot systems (the access token)',
    ]);
    expect(missingForKind<Env>({ SYSTEM_DATABASE_URL: 'postgres://x' }, 'postgres', requirements)).toEqual([]);
  });

  it('asks nothing of a kind it has no requirements for', () => {
    expect(missingForKind<Env>({}, 'mobile', requirements)).toEqual([]);
  });
});
