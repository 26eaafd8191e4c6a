/** `nrdot metrics`: the running agent's /metrics, as exposition text or as the registry's JSON. */
import { agentJson, agentRequest, agentUrl, expectOk } from './client.js';

export interface MetricsOpts {
  url?: string;
  json?: boolean;
}

export async function metricsCommand(o: MetricsOpts): Promise<void> {
  const url = agentUrl(o.url);
  if (o.json) {
    const body = await agentJson<unknown>(url, '/metrics?format=json');
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return;
  }
  const reply = expectOk(await agentRequest(url, '/metrics'), url, '/metrics');
  process.stdout.write(reply.text);
}
