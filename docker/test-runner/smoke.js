'use strict';
// Test runner of docker-compose.test.yml: checks the api of the ephemeral environment and
// exits 0 (pass) or 1 (fail), which `--exit-code-from test-runner` turns into the result.
// Only Node built-ins: it runs on the plain Node image.
const url = process.env.API_HEALTH_URL || 'http://api-test:4000/health';
const deadline = Date.now() + Number(process.env.SMOKE_TIMEOUT_MS || 60000);

async function once() {
  const res = await fetch(url);
  const body = await res.json();
  const problems = [];
  if (res.status !== 200) problems.push(`HTTP ${res.status}`);
  if (body.status !== 'healthy') problems.push(`status=${body.status}`);
  for (const dep of ['postgres', 'redis']) {
    if (!body.checks || body.checks[dep] !== 'connected') problems.push(`checks.${dep}=${body.checks && body.checks[dep]}`);
  }
  return { body, problems };
}

(async () => {
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const { body, problems } = await once();
      if (problems.length === 0) {
        console.log(`PASS ${url}: ${JSON.stringify(body)}`);
        process.exit(0);
      }
      last = problems.join(', ');
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.error(`FAIL ${url}: ${last}`);
  process.exit(1);
})();
