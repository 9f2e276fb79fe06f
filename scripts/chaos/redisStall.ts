import type { ChaosContext } from './harness.ts';
import type { ScenarioResult } from './verdict.ts';
export async function redisStalls(_ctx: ChaosContext): Promise<Omit<ScenarioResult, 'wallMs'>> {
  return { id: '?', did: 'todo', checks: [], outcome: 'SKIP', note: 'todo' };
}
