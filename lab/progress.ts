/** How the lab reports what it is doing: one human-readable line at a time. */
export type Progress = (line: string) => void;
