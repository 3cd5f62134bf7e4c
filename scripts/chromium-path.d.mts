export declare const DEBIAN_CHROMIUM: string;
export declare function chromiumPath(): string | undefined;
export declare const CHROMIUM_ARGS: string[];
export declare const CHROMIUM_COMPATIBILITY_ARGS: string[];
