import Foundation
import Images
import NIOCore
import NIOHTTP1
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// The service's process: options, the store and its reaper, the HTTP server, signals.
public enum ServeMain {
    /// What mounts handlers beside the API: given the service's sandboxes and the
    /// `--mcp-*` flags (as `--rootfs`, `--policy`, `--timeout`), the handlers by path.
    public typealias EndpointFactory = (_ host: SandboxHost, _ mcpArguments: [String]) throws -> [String: HTTPEndpoint]

    /// Serves until SIGTERM or SIGINT; `arguments` are those after `serve`.
    public static func run(arguments: [String], endpoints makeEndpoints: EndpointFactory? = nil) -> Never {
        if arguments.contains("-h") || arguments.contains("--help") {
            print(ServeOptions.usage, terminator: "")
            exit(0)
        }

        let options: ServeOptions
        let token: String?
        do {
            options = try ServeOptions(arguments: arguments)
            token = try options.token()
        } catch {
            fail("\(error)")
        }

        // Before anything is made: a group that does not exist fails the start.
        var socketGID: gid_t?
        if let name = options.socketGroup {
            guard let group = getgrnam(name) else { fail("--socket-group: no group \"\(name)\"") }
            socketGID = group.pointee.gr_gid
        }

        /// The runtime binary: --runtime, else `safehouse` next to this executable.
        let runtimePath: String = {
            if let path = options.runtime { return path }
            let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("safehouse").path
        }()
        guard access(runtimePath, X_OK) == 0 else { fail("no runtime at \(runtimePath) (give --runtime PATH)") }

        var runtime = RuntimeClient(executable: runtimePath, root: options.root, backend: options.backend)
        // Decided once, at start, and pinned in every sandbox's bundle and record.
        runtime.backend = runtime.effectiveBackend()
        let version = (try? runtime.run(["--version"], withRoot: false))
            .map { String(decoding: $0.stdout, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "" } ?? ""
        let records = RecordDirectory(path: options.stateDir)
        do { try records.prepare() } catch { fail("--state-dir \(options.stateDir): \(error.localizedDescription)") }
        let imageStore: ImageStore
        do { imageStore = try ImageStore.configured() } catch { fail("\(error)") }
        let store = SandboxStore(runtime: runtime, records: records, images: SandboxImages(store: imageStore), warm: options.warm)
        store.snapshots = options.snapshots
        store.recover()
        store.fillPool()

        // The reaper: a sandbox past its deadline is deleted whether or not a client is there.
        let reaperQueue = DispatchQueue(label: "safehouse-serve.reaper")
        let reaper = DispatchSource.makeTimerSource(queue: reaperQueue)
        reaper.schedule(deadline: .now() + 1, repeating: 1)
        reaper.setEventHandler {
            store.reapExpired()
            store.limits.poll()
            store.fillPool()
        }
        reaper.resume()
        // The audit logs are read four times a second for the event streams (egress
        // decisions as the warden records them, the end of a sandbox).
        let auditTimer = DispatchSource.makeTimerSource(queue: reaperQueue)
        auditTimer.schedule(deadline: .now() + 0.25, repeating: 0.25)
        auditTimer.setEventHandler { store.audit.poll() }
        auditTimer.resume()

        var endpoints: [String: HTTPEndpoint] = [:]
        if !options.mcpArguments.isEmpty {
            guard let makeEndpoints else { fail("--mcp-rootfs: this build serves no MCP endpoint") }
            do {
                endpoints = try makeEndpoints(SandboxHost(sharing: store, images: options.images), options.mcpArguments)
            } catch {
                fail("\(error)".hasPrefix("--") ? "--mcp-" + "\(error)".dropFirst(2) : "\(error)")
            }
        }

        var routes = Routes(store: store, version: version, images: options.images)
        routes.allowInlinePolicy = options.allowInlinePolicy
        let work = DispatchQueue(label: "safehouse-serve.work", attributes: .concurrent)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                    channel.pipeline.addHandler(APIHandler(routes: routes, token: token, endpoints: endpoints, offload: { work.async(execute: $0) }))
                }
            }

        let server: Channel
        do {
            if let listen = options.listen {
                server = try bootstrap.serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                    .bind(host: listen.host, port: listen.port).wait()
            } else {
                let dir = URL(fileURLWithPath: options.socket).deletingLastPathComponent().path
                if !FileManager.default.fileExists(atPath: dir) {
                    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                            attributes: [.posixPermissions: 0o700])
                }
                // Mode 0660 from the start: the umask covers the window between bind and chmod.
                let old = umask(0o117)
                defer { umask(old) }
                server = try bootstrap.bind(unixDomainSocketPath: options.socket, cleanupExistingSocketFile: true).wait()
                chmod(options.socket, 0o660)
                if let socketGID, chown(options.socket, uid_t.max, socketGID) != 0 {
                    fail("--socket-group: chown \(options.socket): \(String(cString: strerror(errno)))")
                }
            }
        } catch {
            fail("listen: \(error)")
        }
        FileHandle.standardError.write(Data("safehouse: serve: listening on \(options.listen.map { "\($0.host):\($0.port)" } ?? options.socket)\n".utf8))

        // SIGTERM and SIGINT: stop listening and leave; the clients' sandboxes stay, for
        // the next start, the warm pool's go.
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        var signalSources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .main)
            source.setEventHandler {
                server.close(promise: nil)
            }
            source.resume()
            signalSources.append(source)
        }
        DispatchQueue.global().async {
            try? server.closeFuture.wait()
            if options.listen == nil { unlink(options.socket) }
            store.stopPool()
            exit(0)
        }
        dispatchMain()
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("safehouse: serve: \(message)\n".utf8))
        exit(1)
    }
}
