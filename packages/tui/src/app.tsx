/** The live app: owns the view state, wires hooks to the source, and switches between the views. */
import { Box, Text, useApp, useInput } from 'ink';
import { useRef, useState } from 'react';
import { DashboardView } from './components/DashboardView.js';
import { TaskDetail } from './components/TaskDetail.js';
import { WorkersGrid } from './components/WorkersGrid.js';
import { usePanes } from './hooks/usePanes.js';
import { useLiveRun } from './hooks/useLiveRun.js';
import { useTaskDetail } from './hooks/useTaskDetail.js';
import { useTerminalSize } from './hooks/useTerminalSize.js';
import type { DashboardSource, PaneSource } from './source.js';
import { selectFooter, selectHeader, selectRows, tasksInOrder } from './state/selectors.js';
import { initialUi, keyToAction, uiReducer, type View } from './state/ui.js';
import { selectWorkers } from './state/workers.js';

export interface DashboardAppProps {
  source: DashboardSource;
  /** Worker output for the workers view; without it panels show no output. */
  panes?: PaneSource | undefined;
  view?: View;
  /** Time source for elapsed times (tests pin it). */
  clock?: () => number;
  /** Journal changes redraw at most this often (default 1000 ms; keys redraw at once). */
  redrawMs?: number;
}

export function DashboardApp({
  source,
  panes,
  view = 'dashboard',
  clock,
  redrawMs = 1000,
}: DashboardAppProps) {
  const { exit } = useApp();
  const { state, now, ticking } = useLiveRun(source, redrawMs, clock);
  const [ui, setUi] = useState(() => initialUi(view));
  const { columns, rows: height } = useTerminalSize();
  const countRef = useRef(0);
  countRef.current = state?.order.length ?? 0;

  useInput((input, key) => {
    const action = keyToAction(input, key);
    if (!action) return;
    if (action.type === 'quit') exit();
    else setUi((s) => uiReducer(s, action, countRef.current));
  });

  const tasks = state ? tasksInOrder(state) : [];
  const selected = Math.min(ui.selected, Math.max(0, tasks.length - 1));
  const selectedTask = ui.view === 'detail' ? tasks[selected] : undefined;
  // A running task's log grows without journal events: reload it with the clock while it runs.
  const detail = useTaskDetail(
    source,
    selectedTask?.id,
    `${state?.eventCount}:${ticking ? Math.floor(now / 1000) : 0}`,
  );
  const workers = state && ui.view === 'workers' ? selectWorkers(state, now) : undefined;
  const paneLines = Math.max(5, height - 6);
  const captured = usePanes(panes, workers ? workers.live.map((w) => w.task) : [], paneLines);

  if (!state) {
    return (
      <Box flexDirection="column">
        <Text>Waiting for the run to start…</Text>
        <Text dimColor>q quit</Text>
      </Box>
    );
  }
  // One line less than the terminal: a frame as tall as the screen makes ink clear it on every update.
  const room = Math.max(10, height - 1);
  if (ui.view === 'workers' && workers) {
    return (
      <WorkersGrid
        run={state.run}
        model={workers}
        panes={captured}
        footer={selectFooter(state, now)}
        columns={columns}
        rows={room}
      />
    );
  }
  const rows = selectRows(state, now, source.hosts?.());
  if (ui.view === 'detail' && selectedTask && rows[selected]) {
    return (
      <TaskDetail
        task={selectedTask}
        row={rows[selected]}
        log={detail.log}
        verification={detail.verification}
        mailbox={detail.mailbox}
        width={columns}
        height={room}
      />
    );
  }
  return (
    <DashboardView
      header={selectHeader(state)}
      rows={rows}
      footer={selectFooter(state, now)}
      selected={selected}
      width={columns}
      height={room}
    />
  );
}
