import Foundation
import NIOConcurrencyHelpers

/// Every sandbox's commands, by id: running ones, and the last finished ones (for a
/// client that comes back for the exit or the output).
final class CommandTable: @unchecked Sendable {
    private let executable: String
    private let lock = NIOLock()
    /// sandbox id -> command id -> command, in order of start.
    private var commands: [String: [String: SandboxCommand]] = [:]
    private var finished: [String: [String]] = [:]

    /// Finished commands kept per sandbox; the oldest goes first.
    static let finishedKept = 32

    init(executable: String) { self.executable = executable }

    /// Starts `plan` in the sandbox; `follow`, when given, is subscribed before the
    /// command starts, so it misses nothing.
    func launch(_ plan: CommandPlan, sandboxId: String,
                follow: ((SandboxCommand.Event) -> Void)? = nil) throws -> (SandboxCommand, SandboxCommand.Subscription?) {
        let command = SandboxCommand(id: "cmd-" + SandboxStore.randomHex(6), sandboxId: sandboxId, plan: plan,
                                     executable: executable) { [weak self] done in self?.finished(done) }
        let subscription = follow.map { command.subscribe(after: 0, $0).subscription }
        lock.withLock { commands[sandboxId, default: [:]][command.id] = command }
        do {
            try command.start()
        } catch {
            lock.withLock { _ = commands[sandboxId]?.removeValue(forKey: command.id) }
            subscription?.cancel()
            throw error
        }
        return (command, subscription)
    }

    func get(_ sandboxId: String, _ id: String) throws -> SandboxCommand {
        guard let command = lock.withLock({ commands[sandboxId]?[id] }) else {
            throw APIError.notFound("no command \"\(id)\" in sandbox \(sandboxId)")
        }
        return command
    }

    /// The sandbox's running commands, oldest first.
    func running(_ sandboxId: String) -> [SandboxCommand] {
        lock.withLock { Array((commands[sandboxId] ?? [:]).values) }
            .filter(\.isRunning).sorted { $0.startedAt < $1.startedAt }
    }

    /// Kills the sandbox's commands and forgets them (the sandbox is going).
    func removeAll(_ sandboxId: String) {
        let gone = lock.withLock { () -> [SandboxCommand] in
            finished[sandboxId] = nil
            return Array((commands.removeValue(forKey: sandboxId) ?? [:]).values)
        }
        for command in gone { command.kill() }
    }

    private func finished(_ command: SandboxCommand) {
        lock.withLock {
            guard commands[command.sandboxId]?[command.id] != nil else { return }
            finished[command.sandboxId, default: []].append(command.id)
            while let list = finished[command.sandboxId], list.count > Self.finishedKept {
                commands[command.sandboxId]?[list[0]] = nil
                finished[command.sandboxId]?.removeFirst()
            }
        }
    }
}
