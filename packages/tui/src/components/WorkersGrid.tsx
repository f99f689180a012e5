import { Box, Text } from 'ink';
import { cleanLine, padEnd } from '../format.js';
import { KEY_HELP, countSegments } from '../lines.js';
import type { FooterInfo } from '../state/selectors.js';
import {
  gridLayout,
  waitingLine,
  workerLines,
  type WorkerInfo,
  type WorkersModel,
} from '../state/workers.js';
import { LineView } from './LineView.js';

export interface WorkersGridProps {
  run: string;
  model: WorkersModel;
  /** Latest output lines per task id. */
  panes: Readonly<Record<string, string[]>>;
  footer: FooterInfo;
  columns: number;
  rows: number;
}

function WorkerPanel({
  w,
  lines,
  width,
  height,
  room,
}: {
  w: WorkerInfo;
  lines: string[];
  width: number;
  height: number;
  room: number;
}) {
  const body = workerLines(w.task, lines, room);
  return (
    <Box
      flexDirection="column"
      borderStyle="round"
      borderColor={w.row.color}
      width={width}
      height={height}
      paddingX={1}
    >
      <Text wrap="truncate-end">
        <Text bold>{w.row.id}</Text>
        <Text color={w.row.color}>{`  ${w.row.glyph} ${w.row.statusText}`}</Text>
        <Text dimColor>{`  ${w.row.elapsed}  ${w.row.context === '-' ? '' : w.row.context}`}</Text>
      </Text>
      {body.length === 0 ? <Text dimColor>(no output yet)</Text> : null}
      {body.map((l, i) => (
        <Text key={i} wrap="truncate-end">
          {l === '' ? ' ' : l}
        </Text>
      ))}
    </Box>
  );
}

/** A grid of live worker panels sized to the terminal; finished workers collapse to one line each. */
export function WorkersGrid({ run, model, panes, footer, columns, rows }: WorkersGridProps) {
  // Title, counts, key help, and one line per finished worker (at most a third of the screen).
  const collapsed = model.finished.slice(-Math.max(1, Math.floor(rows / 3)));
  const waiting = waitingLine(model);
  const reserved = 3 + collapsed.length + (waiting ? 1 : 0);
  const layout = gridLayout(model.live.length, columns, Math.max(5, rows - reserved));
  const gridRows: WorkerInfo[][] = [];
  for (let i = 0; i < model.live.length; i += layout.perRow)
    gridRows.push(model.live.slice(i, i + layout.perRow));
  return (
    <Box flexDirection="column" width={columns}>
      <Text wrap="truncate-end">
        <Text bold>orch workers </Text>
        <Text dimColor>run </Text>
        <Text>{run}</Text>
        <Text dimColor>{`  ${model.live.length} live`}</Text>
      </Text>
      {model.live.length === 0 ? <Text dimColor>no running workers</Text> : null}
      {gridRows.map((ws, i) => (
        <Box key={i} flexDirection="row">
          {ws.map((w) => (
            <WorkerPanel
              key={w.task.id}
              w={w}
              lines={panes[w.task.id] ?? []}
              width={layout.panelWidth}
              height={layout.panelHeight}
              room={layout.lines}
            />
          ))}
        </Box>
      ))}
      {collapsed.map((w) => (
        <Text key={w.task.id} wrap="truncate-end">
          <Text
            color={w.row.color}
          >{`${w.row.glyph} ${padEnd(w.row.id, 20)} ${padEnd(w.row.statusText, 12)}`}</Text>
          <Text dimColor>{` ${padEnd(w.row.elapsed, 8)}`}</Text>
          <Text>{cleanLine(w.row.message)}</Text>
        </Text>
      ))}
      {waiting ? <Text dimColor>{waiting}</Text> : null}
      <LineView line={countSegments(footer.counts)} />
      <Text dimColor>{KEY_HELP.workers}</Text>
    </Box>
  );
}
