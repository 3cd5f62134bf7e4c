export declare const DEBIAN_FIREFOX: string;
export declare function firefoxPath(): string | undefined;
export declare const FIREFOX_PREFS: Record<string, boolean>;
export declare function firefoxEnv(): Record<string, string | undefined>;
export declare function firefoxVulkanDriver(): string;
export declare function tolerateUnknownBidiCommands(): ReadonlySet<string>;
export declare const FIREFOX_CORE_TESTS: readonly string[];
export declare function firefoxPlan(): { mode: 'off' | 'core' | 'full'; firefox?: string; reason: string };
