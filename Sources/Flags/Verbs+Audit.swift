/// `safehouse audit ...` and `safehouse hook ...`: the runtime hands them to the
/// safehouse-audit executable (it links Crypto, which the runtime must not), which
/// parses them against these declarations.
extension Verbs {
    /// Where a sandbox's log is by default (Audit's `AuditLog.defaultDirectory`;
    /// CLITests checks that the two agree, as this target cannot link Audit).
    static let auditDirectory = "/var/log/safehouse"

    static let auditLog = Verb.Argument(name: "log", help: "The log file, or a sandbox id (\(auditDirectory)/ID.audit.jsonl).")

    public static let auditVerify = Verb(
        path: "audit verify",
        abstract: "Check a log's chain, its head and its close records: exit 0 and the record count when intact (closed, or open: a sandbox still running), 1 naming the first bad line or the cut.",
        discussion: """
            A log keeps a head beside it (FILE.head: the record count and the last line's hash, MACed with the key) and each \
            sandbox's records end with a close record written at its delete. With --key, a log cut at a line boundary fails \
            (its head says more records); without the key the head is only a checksum that whoever can write the log can \
            rewrite. A log from before heads were kept verifies with its tail unproven.
            """,
        flags: [.option("--key", value: "path", help: "The HMAC key file: every line's MAC is checked too.")],
        takesGlobals: false, arguments: [auditLog])

    public static let auditShow = Verb(
        path: "audit show", abstract: "Print a log's records (text or the JSON lines).",
        flags: [
            .option("--kind", value: "kind", help: "Only records of this kind (create, start, kill, exit, limit, changes, stop, ...)."),
            .option("--format", value: "text|json", default: "text", help: "text or json (the lines as stored)."),
            .flag("--follow", help: "Keep printing records as they are appended (until interrupted)."),
        ],
        takesGlobals: false, arguments: [auditLog])

    /// What the warden runs for each burst of its egress records. Its values are taken
    /// as they come, dashed or not: its caller is one of safehouse's executables.
    public static let auditAppend = Verb(
        path: "audit append", abstract: "Append records of one sandbox in one write (what the warden uses for its egress records).",
        flags: [
            .option("--id", value: "id", required: true, takesDashedValue: true, help: "The sandbox's container id."),
            .option("--kind", value: "kind", repeatable: true, required: true, takesDashedValue: true,
                    help: "A record's kind; repeat --kind/--details for several records."),
            .option("--details", value: "json", repeatable: true, takesDashedValue: true, help: "A JSON object, the details of the --kind before it."),
            .option("--key", value: "path", takesDashedValue: true, help: "The HMAC key file."),
            .option("--locked-fd", value: "fd", takesDashedValue: true, help: "The log, already open and locked by the caller.", hidden: true),
        ],
        takesGlobals: false, arguments: [.init(name: "log", help: "The log file.")], hidden: true)

    public static let auditCheck = Verb(
        path: "audit check",
        abstract: "Exit 0 when a record of sandbox --id could be appended to the log now (what the runtime asks before it starts a sandbox).",
        flags: [
            .option("--id", value: "id", required: true, help: "The sandbox's container id."),
            .option("--kind", value: "kind", default: "create", help: "The kind of the record to be appended."),
            .option("--key", value: "path", help: "The HMAC key file."),
        ],
        takesGlobals: false, arguments: [.init(name: "log", help: "The log file.")], hidden: true)

    /// The agent-aware OCI hooks: any runtime runs them with the container's state on stdin.
    public static let hook = Verb(
        path: "hook", abstract: "OCI hook entry point (createRuntime, poststart, poststop): append the lifecycle record to the sandbox's audit log.",
        flags: [
            .option("--audit", value: "path",
                    help: "The log (default: the io.safehouse.audit annotation, else \(auditDirectory)/ID.audit.jsonl)."),
            .option("--key", value: "path", help: "The HMAC key file (default: the io.safehouse.audit.key annotation)."),
        ],
        takesGlobals: false, arguments: [.init(name: "stage", help: "createRuntime, poststart or poststop.")])
}
