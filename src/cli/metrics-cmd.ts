/** `nrdot metrics`: the running agent's /metrics, as exposition text or as the registry's JSON. */
import { agentJson, agentRequest, expectOk } from './client.js';

export interface MetricsOpts {
  url: string;
  json?: boolean;
}

export async function metricsCommand(o: MetricsOpts): Promise<void> {
  if (o.json) {
    const body = await agentJson<unknown>(o.url, '/metrics?format=json');
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return;
  }
  const reply = expectOk(await agentRequest(o.url, '/metrics'), o.url, '/metrics');
  process.stdout.write(reply.text);
}
