export declare function sourceStamp(dir: string): { entries: number; newestMs: number };
export declare const STAMP_FILE: string;
export declare function compiledIsCurrent(srcDir: string, distDir: string): boolean;
