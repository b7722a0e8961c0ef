/// `safehouse mcp`: the MCP server over stdio, served by the safehouse-mcp executable,
/// which this verb execs (it links the MCP SDK, SwiftNIO and Foundation; the runtime
/// binary does not).
extension Verbs {
    public static let mcp = Verb(
        path: "mcp", abstract: "Serve sandboxes to an MCP client (Model Context Protocol) over stdio.",
        discussion: """
            Tools for a model (docs/mcp.md): run_code, run_command, read_file, write_file, list_files, \
            create_sandbox, kill_sandbox. Every sandbox is made from a policy the operator names here \
            (--policy), on an image the operator allows (--rootfs, --images), never one the model \
            writes. Denials come back as tool errors with the one-line reason. Without a sandbox_id, \
            calls share one default sandbox, made on first use; every sandbox of the session is killed \
            when the client closes stdin or the server gets SIGTERM, SIGINT or SIGHUP.
            """,
        flags: [
            .option("--rootfs", value: "path", help: "The image of a sandbox, read-only (required)."),
            .option("--policy", value: "name", repeatable: true,
                    help: "A profile create_sandbox may name (repeatable; the first is the default sandbox's; default: default)."),
            .option("--images", value: "path", repeatable: true,
                    help: "create_sandbox may name an image under this directory (repeatable; default: only --rootfs)."),
            .option("--timeout", value: "seconds", default: "3600", help: "A sandbox's lifetime, 1 to 86400 seconds."),
            .option("--root", value: "path", default: "/run/safehouse", help: "The runtime's state root the sandboxes are made under."),
            .option("--state-dir", value: "path", default: "/run/safehouse-mcp",
                    help: "The server's records go in a directory of their own under this one, removed at exit."),
            .option("--runtime", value: "path", help: "The safehouse binary the server runs (default: the one next to safehouse-mcp)."),
        ],
        takesGlobals: false)
}
