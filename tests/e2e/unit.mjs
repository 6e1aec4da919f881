// tests/e2e/unit.mjs — the runner the plain-node unit tests share (frame, plan, worklet,
// audiocopy): test(name, fn) runs one synchronous case and prints "ok" or "FAIL" with the first
// lines of the stack; done() prints "N passed, N failed" and exits 1 when any failed.

let passed = 0;
let failed = 0;

export function test(name, fn) {
  try {
    fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n     ${e && e.stack ? e.stack.split('\n').slice(0, 8).join('\n     ') : e}`);
  }
}

export function done() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
