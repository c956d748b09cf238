/**
 * The version of the plugin API (`@pipeline/kernel`'s exports), equal to the package's version:
 * a plugin's declared range is checked against it at start-up. Raise the major version for any
 * change a plugin written against the old one could notice.
 */
export const KERNEL_API_VERSION = '1.0.0';
