// ink only writes its last frame when it believes it runs in CI; tests render frame by frame.
delete process.env.CI;
process.env.FORCE_COLOR = '0';
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
// Workers run the build the tests spawn, never a bundle another test builds meanwhile.
process.env.ORCH_WORKER_BUNDLE = '0';
