/** A plan of one `shell` task that writes a.txt, commits and reports done. */
export const ONE_FILE_PLAN = `request: one file
tasks:
  - id: a
    agent: shell
    files_write: [a.txt]
    verification: [{ command: "test -s a.txt" }]
    run: |
      echo a > a.txt && git add -A && git commit -qm a && orch task done --summary "a written"
`;
