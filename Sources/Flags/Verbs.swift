/// Every verb of safehouse's command line and its flags, declared once. The runtime
/// (`safehouse`) and the audit executable (`safehouse-audit`, which runs `safehouse
/// audit|hook`) parse against it; `safehouse VERB --help` and docs/cli.md's reference
/// (`safehouse help --markdown`, hack/gen-cli-docs) are generated from it.
///
/// Each verb is its own static, found by a switch: a `run` builds only the
/// declarations of `run` and the global flags, never the whole table (`all`).
public enum Verbs {
    /// runc's global flags. Every verb that takes them accepts them before its name
    /// (`safehouse --root /x state id`, as engines pass them) or after it.
    public static let global: [Flag] = [
        .option("--root", value: "path", default: "/run/safehouse", help: "Root directory for container state."),
        .option("--log", value: "path", help: "Log file (default: stderr)."),
        .option("--log-format", value: "format", default: "text", help: "Log format: text or json."),
        .flag("--debug", help: "Log debug messages."),
        .option("--backend", value: "name",
                help: "Backend of the containers this command creates: native or gvisor (runsc). Default: the root's safehouse.conf, else native.",
                runc: "no such flag"),
        .flag("--systemd-cgroup",
              help: "cgroupsPath is systemd's \"slice:prefix:name\" (laid out as systemd would; hosts without systemd only)."),
        .option("--criu", value: "path", help: "Path to criu.",
                runc: "the same flag; the native backend runs that CRIU"),
        .option("--rootless", value: "true|false|auto", help: "Ignore cgroup permission errors: true, false or auto.",
                runc: "the same flag; safehouse runs as root, where auto is false, and refuses true"),
    ]

    /// The names of verb groups, whose verbs are two words (`agent run`).
    public static func group(named name: String) -> String? {
        switch name {
        case "agent", "audit", "image": return name
        default: return nil
        }
    }

    /// The verb called `path` (or by one of its aliases).
    public static func verb(named path: String) -> Verb? {
        switch path {
        case "create": return create
        case "start": return start
        case "run": return run
        case "exec": return exec
        case "state": return state
        case "kill": return kill
        case "delete": return delete
        case "ps": return ps
        case "pause": return pause
        case "resume": return resume
        case "checkpoint": return checkpoint
        case "restore": return restore
        case "events": return events
        case "update": return update
        case "list", "ps-all": return list
        case "spec": return spec
        case "features": return features
        case "agent spec": return agentSpec
        case "agent run": return agentRun
        case "agent explain": return agentExplain
        case "agent stop-all": return agentStopAll
        case "agent commit": return agentCommit
        case "agent checkpoint": return agentCheckpoint
        case "agent restore": return agentRestore
        case "image ls": return imageLs
        case "image rm": return imageRm
        case "image prune": return imagePrune
        case "agent allow": return agentAllow
        case "agent deny": return agentDeny
        case "agent rules": return agentRules
        case "audit verify": return auditVerify
        case "audit show": return auditShow
        case "audit append": return auditAppend
        case "audit check": return auditCheck
        case "hook": return hook
        case "serve": return serve
        case "mcp": return mcp
        case "top": return top
        default: return nil
        }
    }

    /// Every verb, in the order help and the reference list them.
    public static var all: [Verb] {
        [create, start, run, exec, state, kill, delete, ps, pause, resume, checkpoint, restore, events, update, list, spec, features,
         agentSpec, agentRun, agentExplain, agentStopAll, agentCommit, agentCheckpoint, agentRestore, agentAllow, agentDeny, agentRules, imageLs, imageRm, imagePrune, auditVerify, auditShow, auditAppend, auditCheck, hook, serve, top, mcp]
    }

    /// Whether `word` is a top-level word: a verb, an alias, a group, `help` or its
    /// runc alias `h`. It builds no declaration but the one `word` names (a `run`
    /// checks its verb).
    public static func isCommandName(_ word: String) -> Bool {
        word == "help" || word == "h" || group(named: word) != nil || verb(named: word) != nil
    }

    /// What a group is for, in the top-level help.
    public static func abstract(ofGroup group: String) -> String {
        switch group {
        case "agent": return "Run untrusted agent code in a sandbox made from a short policy."
        case "image": return "The image store agent run --image uses: ls, rm NAME..., prune."
        case "audit": return "A sandbox's audit log: verify FILE [--key FILE], show ID|FILE [--kind K] [--format text|json] [--follow]."
        default: return ""
        }
    }

    static let id = Verb.Argument(name: "id", help: "The container id.")
}
