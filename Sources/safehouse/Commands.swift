import Flags
import Runtime

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
        // The verbs that only hand the container's id (and create's options) to the
        // runtime.
        case "create":
            let global = try GlobalSettings(a), options = try CreateOptions(a)
            try global.perform { try $0.create(id: a.arguments[0], options: options) }
        case "start": try GlobalSettings(a).perform { try $0.start(id: a.arguments[0]) }
        case "delete": try GlobalSettings(a).perform { try $0.delete(id: a.arguments[0], force: a.isSet("--force")) }
        case "pause": try GlobalSettings(a).perform { try $0.pause(id: a.arguments[0]) }
        case "resume": try GlobalSettings(a).perform { try $0.resume(id: a.arguments[0]) }
        case "state":
            let report = try GlobalSettings(a).perform { try $0.state(id: a.arguments[0]) }
            print(report.prettyJSON)
        case "run": try runContainer(a)
        case "exec": try Exec(a).run()
        case "kill": try kill(a)
        case "ps": try ps(a)
        case "checkpoint": try checkpoint(a)
        case "restore": try restore(a)
        case "events": try events(a)
        case "update": try update(a)
        case "list": try list(a)
        case "spec": try spec(a)
        case "features": try features(a)
        case "agent spec": try AgentSpec(a).run()
        case "agent run": try AgentRun(a).run()
        case "agent explain": try agentExplain(a)
        case "agent stop-all": try agentStopAll(a)
        case "agent commit": try agentCommit(a)
        case "agent checkpoint": try agentCheckpoint(a)
        case "agent restore": try agentRestore(a)
        case "image ls": try imageLs(a)
        case "image rm": try imageRm(a)
        case "image prune": try imagePrune(a)
        case "agent allow", "agent deny", "agent rules": try AgentLiveRules.run(a)
        case "top": try Top(a).run()
        default: throw UsageError(verb: a.verb.path, "is not a verb of this executable")
        }
    }
}
