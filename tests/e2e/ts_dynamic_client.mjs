// The TypeScript SDK's MCP client against `multichat run --dynamic` over stdio: list, enable the
// alpha read toolset, wait for notifications/tools/list_changed, list again, call a new tool.
// Usage: node ts_dynamic_client.mjs MULTICHAT WORKSPACE; prints one JSON line.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

const [multichat, workspace] = process.argv.slice(2);
const transport = new StdioClientTransport({ command: multichat, args: ["run", "--dynamic"], cwd: workspace });
const client = new Client({ name: "ts-dynamic-test", version: "1.0.0" });
let notified = false;
let arrived;
const notification = new Promise((resolve) => { arrived = resolve; });
client.setNotificationHandler(ToolListChangedNotificationSchema, () => { notified = true; arrived(); });

const names = async () => (await client.listTools()).tools.map((tool) => tool.name).sort();
const timeout = (ms) => new Promise((_, reject) => setTimeout(() => reject(new Error("no list_changed")), ms));

await client.connect(transport);
const first = await names();
await client.callTool({ name: "multichat_enable_toolset", arguments: { provider: "alpha", toolset: "read" } });
await Promise.race([notification, timeout(30000)]);
const after = await names();
const peek = await client.callTool({ name: "alpha_peek", arguments: {} });
await client.close();
console.log(JSON.stringify({ first, notified, after, peek: peek.content[0].text }));
