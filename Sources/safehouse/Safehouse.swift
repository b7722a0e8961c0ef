import ArgumentParser
import Runtime

/// The `safehouse` command line: runc's commands and flags, so that engines which
/// drive runc drive safehouse unchanged. Argument parsing only; the work is in `Runtime`.
struct Safehouse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "safehouse",
        abstract: "An OCI container runtime for running AI agents safely.",
        discussion: """
        Runs OCI bundles with runc's command line (create, start, run, state, kill, \
        delete, list, spec, features). Global options go before or after the command.
        """,
        version: BuildInfo.versionText,
        subcommands: [
            Create.self, Start.self, Run.self, Exec.self, State.self, Kill.self, Delete.self, Ps.self,
            Pause.self, Resume.self, Events.self, Update.self,
            List.self, SpecCommand.self, Features.self, AgentCommand.self, AuditHelp.self, HookHelp.self,
        ]
    )
}

extension Safehouse {
    /// Every command name and alias the root accepts, and `help`.
    static var commandNames: [String] {
        configuration.subcommands.flatMap { [$0._commandName] + $0.configuration.aliases } + ["help"]
    }
}

enum BuildInfo {
    static let version = "0.1.0"
    static let commit = "unreleased"
    /// runc's three-line shape: name and version, commit, spec version.
    static var versionText: String {
        "safehouse version \(version)\ncommit: \(commit)\nspec: \(specVersion)"
    }
}
