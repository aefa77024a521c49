import ArgumentParser
import BackgroundCopy
import Crypto
import Foundation
import Logging

/// `bgcopy demo`: the queue at work on source files it generates itself and fetches through
/// `file://` URLs — no network, and no test server linked into `bgcopy` (the loopback HTTP server
/// lives in the `BackgroundCopyTesting` product). Priorities, the background throttle, SHA-256
/// verification, cancellation and the events outbox work the same for every transport.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a self-contained demonstration on generated local files (no network needed).")

    @Option(help: "Keep the demo's files in this directory instead of a temporary one.")
    var directory: String?

    func run() async throws {
        let root = directory ?? FileManager.default.temporaryDirectory.appending(path: "bgcopy-demo-\(getpid())").path
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var logger = Logger(label: "bgcopy")
        logger.logLevel = .warning
        var configuration = QueueManager.Configuration()
        configuration.backgroundBytesPerSecond = 6 << 20
        let manager = try QueueManager(path: "\(root)/queue.sqlite", configuration: configuration, logger: logger)
        print("queue \(root)/queue.sqlite, sources under file://\(root)/sources\n")

        let urgent = try queue(manager, root, name: "security update", priority: .foreground, files: 3, size: 4 << 20)
        let nightly = try queue(manager, root, name: "nightly mirror", priority: .low, files: 6, size: 2 << 20)
        let verified = try queue(manager, root, name: "verified models", priority: .normal, files: 2, size: 3 << 20, sha256: true)
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
        try report.summary(manager, elapsed: started.duration(to: .now))
    }

    /// A group of `files` generated source files of `size` bytes, fetched through `file://`, in one job.
    private func queue(
        _ manager: QueueManager, _ root: String, name: String,
        priority: Priority, files: Int, size: Int, sha256: Bool = false
    ) throws -> Group {
        let group = try manager.createGroup(properties: GroupProperties(displayName: name, priority: priority))
        let slug = name.replacingOccurrences(of: " ", with: "-")
        let sources = "\(root)/sources/\(slug)"
        try FileManager.default.createDirectory(atPath: sources, withIntermediateDirectories: true)
        try group.createJob().addFiles(
            (0..<files).map { index in
                let source = "\(sources)/part\(index).bin"
                let content = Self.generated(size: size, seed: UInt64(slug.utf8.count * 100 + index))
                try content.write(to: URL(fileURLWithPath: source))
                let digest = sha256 ? SHA256.hash(data: content).map { String(format: "%02x", $0) }.joined() : nil
                return FileSpec(
                    remote: "file://\(source)", local: "\(root)/\(slug)-part\(index).bin",
                    sizeHint: UInt64(size), sha256: digest)
            })
        return group
    }

    /// `size` pseudo-random bytes from `seed` (xorshift64), so every source file differs.
    private static func generated(size: Int, seed: UInt64) -> Data {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return Data(
            (0..<size).map { _ in
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                return UInt8(truncatingIfNeeded: state)
            })
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
            text =
                "\(name) \(properties.priority.description.padding(toLength: 10, withPad: " ", startingAt: 0)) \(state) "
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
            let verdict =
                file.state == .complete
                ? "complete → retained, left in place"
                : "\(file.bytesDone >> 10) KiB held → discarded, temp file removed"
            print("  \((file.local as NSString).lastPathComponent): \(verdict); at its local path now: \(present ? "yes" : "no")")
        }
        print("")
    }

    func summary(_ manager: QueueManager, elapsed: Duration) throws {
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
