import Flags

/// Ends the process with this status once the command has said what it had to say.
struct ExitCode: Error {
    let rawValue: Int32
    init(_ rawValue: Int32) { self.rawValue = rawValue }
}

/// The command of each verb of the runtime. A switch, not a table of types: each verb
/// is called directly, with no existential or dynamic dispatch on the `run` path.
enum Commands {
    static func run(_ a: ParsedArguments) throws {
        switch a.verb.path {
        case "create": try Create(a).run()
        case "start": try Start(a).run()
        case "run": try Run(a).run()
        case "exec": try Exec(a).run()
        case "state": try State(a).run()
        case "kill": try Kill(a).run()
        case "delete": try Delete(a).run()
        case "ps": try Ps(a).run()
        case "pause": try Pause(a).run()
        case "resume": try Resume(a).run()
        case "checkpoint": try Checkpoint(a).run()
        case "restore": try Restore(a).run()
        case "events": try Events(a).run()
        case "update": try Update(a).run()
        case "list": try List(a).run()
        case "spec": try SpecCommand(a).run()
        case "features": try Features(a).run()
        case "agent spec": try AgentSpec(a).run()
        case "agent run": try AgentRun(a).run()
        case "agent explain": try AgentExplain(a).run()
        case "agent stop-all": try AgentStopAll(a).run()
        case "agent commit": try AgentCommit(a).run()
        case "agent checkpoint": try AgentCheckpoint(a).run()
        case "agent restore": try AgentRestore(a).run()
        case "image ls": try ImageLs(a).run()
        case "image rm": try ImageRm(a).run()
        case "image prune": try ImagePrune(a).run()
        case "agent allow", "agent deny", "agent rules": try AgentLiveRules(a).run()
        case "top": try Top(a).run()
        default: throw UsageError(verb: a.verb.path, "is not a verb of this executable")
        }
    }
}
