import ArgumentParser
import BackgroundCopy
import Crypto
import Foundation
import LoopbackServer
import Logging

/// `bgcopy demo`: the queue at work against a loopback HTTP server it starts itself — no network.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a self-contained demonstration on a loopback HTTP server (no network needed).")

    @Option(help: "Keep the demo's files in this directory instead of a temporary one.")
    var directory: String?

    func run() async throws {
        let root = directory ?? FileManager.default.temporaryDirectory.appending(path: "bgcopy-demo-\(getpid())").path
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let server = try await LoopbackServer.start()
        var logger = Logger(label: "bgcopy")
        logger.logLevel = .warning
        var configuration = QueueManager.Configuration()
        configuration.backgroundBytesPerSecond = 6 << 20
        let manager = try QueueManager(path: "\(root)/queue.sqlite", configuration: configuration, logger: logger)
        print("queue \(root)/queue.sqlite, test server \(server.baseURL)\n")

        let urgent = try queue(manager, server, root, name: "security update", priority: .foreground, files: 3, size: 4 << 20)
        let nightly = try queue(manager, server, root, name: "nightly mirror", priority: .low, files: 6, size: 2 << 20)
        let verified = try queue(manager, server, root, name: "verified models", priority: .normal, files: 2, size: 3 << 20, sha256: true)
        for group in [urgent, nightly, verified] { try await group.resume() }

        let started = ContinuousClock.now
        let engine = Task { try await manager.run() }
        var report = DemoReport()
        var cancelled = false
        while try [urgent, verified].contains(where: { try ![.complete, .error].contains($0.status().state) }) || !cancelled {
            try await Task.sleep(for: .milliseconds(250))
            let live = try await manager.groups()
            report.show(try live.map { try DemoReport.Line($0) })
            if !cancelled, try await nightly.progress().filesDone >= 2 {
                cancelled = true
                try report.cancel(nightly, root: root)
            }
        }
        engine.cancel()
        _ = try? await engine.value
        try await server.shutdown()
        try report.summary(manager, elapsed: started.duration(to: .now), served: server)
    }

    /// A group of `files` generated files served by `server`, in one job.
    private func queue(_ manager: QueueManager, _ server: LoopbackServer, _ root: String, name: String,
                       priority: Priority, files: Int, size: Int, sha256: Bool = false) throws -> Group {
        let group = try manager.createGroup(properties: GroupProperties(displayName: name, priority: priority))
        let slug = name.replacingOccurrences(of: " ", with: "-")
        try group.createJob().addFiles((0..<files).map { index in
            let path = "/\(slug)/part\(index).bin"
            let seed = UInt64(slug.utf8.count * 100 + index)
            server.serve(path, size: size, seed: seed)
            let digest = sha256 ? Array(SHA256.hash(data: LoopbackServer.generated(size: size, seed: seed))).map { String(format: "%02x", $0) }.joined() : nil
            return FileSpec(remote: server.url(path), local: "\(root)/\(slug)-part\(index).bin", sizeHint: UInt64(size), sha256: digest)
        })
        return group
    }
}

/// What the demo prints: a progress line per group, the cancel, and a summary.
struct DemoReport {
    struct Line: Equatable {
        let text: String

        init(_ group: Group) throws {
            let properties = try group.properties()
            let status = try group.status()
            let progress = try group.progress()
            let name = properties.displayName.padding(toLength: 16, withPad: " ", startingAt: 0)
            let state = status.state.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
            text = "\(name) \(properties.priority.description.padding(toLength: 10, withPad: " ", startingAt: 0)) \(state) "
                + "files \(progress.filesDone)/\(progress.filesTotal)  \(progress.bytesDone >> 10)/\(progress.bytesTotal >> 10) KiB  \(progress.percent)%"
        }
    }

    private var last: [Line] = []

    mutating func show(_ lines: [Line]) {
        guard lines != last else { return }
        last = lines
        for line in lines { print("  " + line.text) }
        print("")
    }

    func cancel(_ group: Group, root: String) throws {
        let files = try group.jobs().flatMap { try $0.files() }
        print("cancelling 'nightly mirror' midway …")
        try group.cancel()
        for file in files {
            let present = FileManager.default.fileExists(atPath: file.local)
            let verdict = file.state == .complete
                ? "complete → retained, left in place"
                : "\(file.bytesDone >> 10) KiB held → discarded, temp file removed"
            print("  \((file.local as NSString).lastPathComponent): \(verdict); at its local path now: \(present ? "yes" : "no")")
        }
        print("")
    }

    func summary(_ manager: QueueManager, elapsed: Duration, served: LoopbackServer) throws {
        var bytes: UInt64 = 0
        print("summary after \(elapsed.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1)))):")
        for group in try manager.groups() {
            let status = try group.status()
            let progress = try group.progress()
            bytes += progress.bytesDone
            print("  \(try group.properties().displayName): \(status.state.rawValue), \(progress.filesDone)/\(progress.filesTotal) files")
        }
        let events = try manager.recordedEvents(limit: 100_000)
        let cancelEvent = events.first { $0.kind == .cancelled }
        print("  cancelled group: \(cancelEvent?.detail ?? "none")")
        print("  \(bytes >> 20) MiB transferred by the live groups; \(events.count) events in the outbox")
    }
}
