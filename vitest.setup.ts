// ink only writes its last frame when it believes it runs in CI; tests render frame by frame.
delete process.env.CI;
process.env.FORCE_COLOR = '0';
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
