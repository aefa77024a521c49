import BackgroundCopy
import Foundation

/// Where the benchmark databases live, and the template queues they are copied from.
///
/// `BGCOPY_BENCH_DIR` names the folder (`Benchmarks/run.sh` uses `Benchmarks/.build/databases`,
/// on the same disk as the project, so `synchronous=FULL` pays for a real fsync); the default is
/// a folder in the system's temporary directory. Templates are built once per shape and reused by
/// every benchmark of the run: each benchmark works on its own copy.
package enum Workspace {
    package static let root: String = {
        let root =
            ProcessInfo.processInfo.environment["BGCOPY_BENCH_DIR"]
            ?? NSTemporaryDirectory() + "bgcopy-benchmarks"
        try? FileManager.default.createDirectory(atPath: root + "/downloads", withIntermediateDirectories: true)
        return root
    }()

    /// The folder the benchmarks' local paths point into (it exists; the files never do).
    package static var downloads: String { root + "/downloads" }

    /// A new database holding `filler` (see ``Filler``) and nothing else, at a path no other
    /// benchmark uses.
    package static func database(_ filler: Filler) -> String {
        let template = root + "/template-\(filler.groups)x\(filler.filesPerGroup).sqlite"
        if !FileManager.default.fileExists(atPath: template) {
            filler.build(at: template + ".partial")
            try! FileManager.default.moveItem(atPath: template + ".partial", toPath: template)
            remove(template + ".partial")
        }
        let path = root + "/\(UUID().uuidString).sqlite"
        try! FileManager.default.copyItem(atPath: template, toPath: path)
        return path
    }

    /// Deletes a benchmark's database, its WAL files and the engine lock file beside it.
    package static func remove(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-engine.lock"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// The configuration every benchmark opens its queue with.
    package static func configuration(_ durability: QueueManager.Durability) -> QueueManager.Configuration {
        var configuration = QueueManager.Configuration()
        configuration.durability = durability
        return configuration
    }
}
