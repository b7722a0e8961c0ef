import Foundation
import NIOCore
import NIOHTTP1

/// Server-Sent Events: a command's output (as it runs, or followed again later by its
/// id) and the event streams of one sandbox or of all.
extension APIHandler {
    private func wantsEvents(_ h: HTTPRequestHead) -> Bool {
        h.headers["accept"].contains { $0.lowercased().contains("text/event-stream") }
    }

    private func beginEvents(_ context: ChannelHandlerContext, _ h: HTTPRequestHead) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/event-stream")
        headers.add(name: "cache-control", value: "no-cache")
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: .ok, headers: headers))), promise: nil)
    }

    /// One event: `id:` (when given) lets a client that reconnects say where it was.
    private func emit(_ context: ChannelHandlerContext, _ event: String, id: UInt64? = nil, _ value: [String: Any]) {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        var buffer = context.channel.allocator.buffer(capacity: data.count + 48)
        if let id { buffer.writeString("id: \(id)\n") }
        buffer.writeString("event: \(event)\ndata: ")
        buffer.writeBytes(data)
        buffer.writeString("\n\n")
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    }

    private func emit(_ context: ChannelHandlerContext, _ event: SandboxCommand.Event) {
        let (name, value) = Self.describe(event)
        emit(context, name, id: event.seq, value)
    }

    /// A command's event as its SSE name and data.
    static func describe(_ event: SandboxCommand.Event) -> (String, [String: Any]) {
        switch event.kind {
        case .output(let stream, let text):
            return (stream.rawValue, ["data": text])
        case .exit(let exit, let killed):
            return ("exit", ["exitCode": exit.code, "timedOut": exit.timedOut, "killed": killed])
        }
    }

    /// Starts a foreground command. With `Accept: text/event-stream` the first event
    /// (`start`) gives its id, then each piece of output goes out as it comes, the exit
    /// last; otherwise stdout, stderr and the exit code come as one JSON object.
    func runCommand(_ context: ChannelHandlerContext, _ h: HTTPRequestHead, _ plan: CommandPlan) {
        let streaming = wantsEvents(h)
        let loop = context.eventLoop
        var collected: [CommandRun.Stream: String] = [.stdout: "", .stderr: ""]
        // Events are handed over before the command is known here (they are subscribed
        // before it starts): they wait for the start event, in order, on the loop.
        let follow: (SandboxCommand.Event) -> Void = { event in
            loop.execute {
                guard self.following != nil else { return } // the client is gone
                switch event.kind {
                case .output(let stream, let text):
                    if streaming { self.emit(context, event) } else { collected[stream]! += text }
                case .exit(let exit, let killed):
                    self.following = nil
                    self.killWhenGone = nil
                    if streaming {
                        self.emit(context, event)
                        self.finish(context, h)
                    } else {
                        self.sendJSON(context, h, .ok, ["stdout": collected[.stdout]!, "stderr": collected[.stderr]!,
                                                        "exitCode": exit.code, "timedOut": exit.timedOut, "killed": killed])
                    }
                }
            }
        }
        if streaming { beginEvents(context, h) }
        following = {}
        do {
            let (command, subscription) = try routes.store.commands.launch(plan, sandboxId: plan.sandboxId, follow: follow)
            // Still on the loop: the start event goes out before any output event.
            if streaming { emit(context, "start", ["id": command.id]) }
            if following != nil {
                following = { subscription?.cancel() }
                if plan.killOnDisconnect { killWhenGone = command }
            }
        } catch {
            following = nil
            if streaming {
                emit(context, "error", APIError.runtime("exec: \(error)").json)
                finish(context, h)
            } else {
                respond(context, h, .failure(APIError.runtime("exec: \(error)")))
            }
        }
    }

    /// A command's events after `after` (what the log still has, then what comes),
    /// until its exit; a client that goes away leaves the command running.
    /// Without `Accept: text/event-stream`, the events the log has now, as one JSON
    /// object (a poll that always ends).
    func followCommand(_ context: ChannelHandlerContext, _ h: HTTPRequestHead, _ command: SandboxCommand, after: UInt64) {
        guard wantsEvents(h) else {
            let events = command.logged(after: after).map { event -> [String: Any] in
                let (name, value) = Self.describe(event)
                return value.merging(["seq": event.seq, "event": name]) { a, _ in a }
            }
            sendJSON(context, h, .ok, ["events": events, "state": command.isRunning ? "running" : "exited"])
            return
        }
        let loop = context.eventLoop
        beginEvents(context, h)
        following = {}
        let (missed, subscription) = command.subscribe(after: after) { event in
            loop.execute {
                guard self.following != nil else { return }
                self.emit(context, event)
                if case .exit = event.kind {
                    self.following = nil
                    self.finish(context, h)
                }
            }
        }
        if missed > 0 { emit(context, "dropped", ["bytes": missed]) }
        if following != nil { following = subscription.cancel }
    }

    /// The events of one sandbox (its kept history first) or of all; the stream of one
    /// sandbox ends when the sandbox is gone, that of all only when the client goes.
    /// Without `Accept: text/event-stream`, the kept events as one JSON object (a poll
    /// that always ends).
    func followEvents(_ context: ChannelHandlerContext, _ h: HTTPRequestHead, _ sandboxId: String?, after: UInt64?) {
        guard wantsEvents(h) else {
            sendJSON(context, h, .ok, ["events": routes.store.events.kept(sandboxId, after: after).map(\.json)])
            return
        }
        let loop = context.eventLoop
        beginEvents(context, h)
        following = {}
        let cancel = routes.store.events.follow(sandboxId, after: after) { delivery in
            loop.execute {
                guard self.following != nil else { return }
                switch delivery {
                case .event(let event):
                    self.emit(context, event.type, id: event.seq, event.json)
                case .end:
                    self.following = nil
                    self.finish(context, h)
                }
            }
        }
        if following != nil { following = cancel }
        // A sandbox deleted between the route's look-up and the follow has ended already.
        if let sandboxId, following != nil, !routes.store.isKnown(sandboxId) {
            cancel()
            following = nil
            finish(context, h)
        }
    }
}
