// An app written for Dapr with the official @dapr/dapr SDK, unchanged, run by
// `tether serve --dapr -- node app.mjs` (pubsub.test.mjs). DaprServer
// subscribes; DaprClient publishes. Extra routes for the test:
//   POST /publish/:topic  publishes the JSON body with DaprClient
//   GET  /received        what each topic's handler got, in order
import { DaprClient, DaprServer, DaprPubSubStatusEnum } from '@dapr/dapr';

const server = new DaprServer({
  serverHost: '127.0.0.1',
  serverPort: process.env.APP_PORT,
  clientOptions: { daprHost: '127.0.0.1', daprPort: process.env.DAPR_HTTP_PORT },
  logger: { level: 1 },  // errors only
});
const client = new DaprClient({ daprHost: '127.0.0.1', daprPort: process.env.DAPR_HTTP_PORT,
                                logger: { level: 1 } });
const received = { orders: [], flaky: [], dropme: 0, flakyCalls: 0 };

await server.pubsub.subscribe('pubsub', 'orders', async (data) => {
  received.orders.push(data);
  return DaprPubSubStatusEnum.SUCCESS;
});
// Answers RETRY the first time it sees each message, SUCCESS the second.
const seen = new Set();
await server.pubsub.subscribe('pubsub', 'flaky', async (data) => {
  received.flakyCalls++;
  const key = JSON.stringify(data);
  if (!seen.has(key)) {
    seen.add(key);
    return DaprPubSubStatusEnum.RETRY;
  }
  received.flaky.push(data);
  return DaprPubSubStatusEnum.SUCCESS;
});
await server.pubsub.subscribe('pubsub', 'dropme', async () => {
  received.dropme++;
  return DaprPubSubStatusEnum.DROP;
});

const app = server.daprServer.getServer();
app.post('/publish/:topic', async (req, res) => {
  const r = await client.pubsub.publish('pubsub', req.params.topic, req.body);
  if (r.error) res.status(500).send(String(r.error));
  else res.status(204).end();
});
app.get('/received', (req, res) => res.json(received));

await server.start();
console.log(`dapr-app: started on ${process.env.APP_PORT}`);
