/**
 * `greenloop/debug`: seeing inside a thread's greenlets. {@link dump} lists
 * every greenlet with what it waits in and its stack, {@link dumpOnSignal}
 * writes that on a signal, {@link channels} names the diagnostics channels
 * of greenlet life-cycle events, {@link trackTime}/{@link counters} count
 * switches and on-CPU time. See docs/debugging.md.
 * @module greenloop/debug
 */
export {
  channels,
  type ErrorMessage,
  type FinishMessage,
  type ParkMessage,
  type ResumeMessage,
  type SpawnMessage,
} from './channels.js';
export { counters, type GreenletCounters, type LoopDelay, loopDelay, trackTime } from './counters.js';
export { dump, type DumpOptions, type GreenletInfo, type GreenletStateName, type ThreadDump } from './dump.js';
export { type DumpOnSignalOptions, dumpOnSignal, type SignalDumpHandle } from './signal.js';
export { trackSpawnSites } from './track.js';
export { type BlockReport, monitor, type MonitorHandle, type MonitorOptions } from './monitor.js';
export type { FrameInfo } from './watchdog.js';
export {
  type CpuProfile,
  type CpuProfileCallFrame,
  type CpuProfileNode,
  profile,
  type ProfileHandle,
  type ProfileOptions,
} from './profile.js';
