// The reference webhook receiver for webhook-bench: @octokit/webhooks' createNodeMiddleware on
// node:http, as its README shows it. It verifies X-Hub-Signature-256 and answers; it stores
// nothing. Usage: WEBHOOK_SECRET=... node server.mjs PORT
import http from "node:http";
import { Webhooks, createNodeMiddleware } from "@octokit/webhooks";

const port = Number(process.argv[2]);
const secret = process.env.WEBHOOK_SECRET;
if (!port || !secret) {
  console.error("usage: WEBHOOK_SECRET=... node server.mjs PORT");
  process.exit(2);
}

const webhooks = new Webhooks({ secret });
let received = 0;
webhooks.onAny(() => {
  received += 1;
});

const middleware = createNodeMiddleware(webhooks, { path: "/webhooks/github" });
const server = http.createServer((req, res) => {
  middleware(req, res, () => {
    res.writeHead(404).end("not found\n");
  });
});
server.listen(port, "127.0.0.1", () => {
  console.log(`node receiver listening on 127.0.0.1:${port}`);
});
const stop = () => {
  console.log(`deliveries received: ${received}`);
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
