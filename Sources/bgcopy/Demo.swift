import ArgumentParser
import BackgroundCopy
import Foundation
import Logging

/// `bgcopy demo`: a self-contained tour of the queue in a scratch directory; no network needed.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the queue at work in a scratch directory (no network needed).")

    @Option(help: "Keep the demo's files in this directory instead of a temporary one.")
    var directory: String?

    func run() throws {
        let root = directory ?? FileManager.default.temporaryDirectory.appending(path: "bgcopy-demo-\(getpid())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let database = "\(root)/queue.sqlite"
        try? FileManager.default.removeItem(atPath: database)
        var logger = Logger(label: "bgcopy")
        logger.logLevel = .warning
        let manager = try QueueManager(path: database, logger: logger)
        print("queue: \(database)")

        let nightly = try manager.createGroup(properties: GroupProperties(displayName: "nightly mirror", priority: .low))
        let urgent = try manager.createGroup(properties: GroupProperties(displayName: "security update"))
        try urgent.switchToForeground()
        for (group, count) in [(nightly, 4), (urgent, 2)] {
            let job = try group.createJob()
            try job.addFiles((0..<count).map { index in
                FileSpec(remote: "https://updates.example/\(group.id)/part\(index).bin",
                         local: "\(root)/\(group.id)-part\(index).bin", sizeHint: 1 << 20)
            })
            try group.resume()
        }
        for group in try manager.groups() {
            try show(group)
        }

        print("\ncancelling 'nightly mirror' …")
        try nightly.cancel()
        do {
            _ = try manager.group(nightly.id)
        } catch {
            print("  looking it up again: \(error.code) (\(error.message))")
        }
        do {
            try manager.createGroup(id: nightly.id, properties: GroupProperties(displayName: "again"))
        } catch {
            print("  re-using its ID: \(error.code)")
        }
        print("  live groups now: \(try manager.groups().count)")
        print("\nTransfers arrive with the engine; this demo shows the queue's transactions.")
    }

    private func show(_ group: Group) throws {
        let properties = try group.properties()
        let status = try group.status()
        let progress = try group.progress()
        print("""
            group \(group.id)  \(properties.displayName)
              state \(status.state.rawValue), priority \(properties.priority), flags 0x\(String(status.flags.rawValue, radix: 16))
              files \(progress.filesDone)/\(progress.filesTotal), bytes \(progress.bytesDone)/\(progress.bytesTotal) (\(progress.percent)%)
            """)
    }
}
