import { Box, Text } from 'ink';
import { KEY_HELP, footerLines, headerLines, rowLine, tableColumns, tableTitleLine } from '../lines.js';
import type { FooterInfo, HeaderInfo, TaskRow } from '../state/selectors.js';
import { LineView } from './LineView.js';

export interface DashboardViewProps {
  header: HeaderInfo;
  rows: TaskRow[];
  footer: FooterInfo;
  selected: number;
  width: number;
  height: number;
}

/** Lines around the table: two header lines, a blank, the titles, a blank and three footer lines. */
const CHROME = 8;

/** The first row shown so that `selected` stays visible in a window of `visible` rows. */
export function scrollOffset(selected: number, count: number, visible: number): number {
  if (count <= visible) return 0;
  const half = Math.floor(visible / 2);
  return Math.min(count - visible, Math.max(0, selected - half));
}

export function DashboardView({ header, rows, footer, selected, width, height }: DashboardViewProps) {
  const cols = tableColumns(rows, width);
  const visible = Math.max(3, height - CHROME);
  const offset = scrollOffset(selected, rows.length, visible);
  const shown = rows.slice(offset, offset + visible);
  return (
    <Box flexDirection="column" width={width}>
      {headerLines(header, width).map((l, i) => (
        <LineView key={`h${i}`} line={l} />
      ))}
      <Text> </Text>
      <LineView line={tableTitleLine(cols)} />
      {shown.map((r, i) => (
        <LineView key={r.id} line={rowLine(r, cols, offset + i === selected)} />
      ))}
      {rows.length > shown.length ? (
        <Text dimColor>{`  rows ${offset + 1}-${offset + shown.length} of ${rows.length}`}</Text>
      ) : (
        <Text> </Text>
      )}
      {footerLines(footer, KEY_HELP.dashboard).map((l, i) => (
        <LineView key={`f${i}`} line={l} />
      ))}
    </Box>
  );
}
