import Foundation
import Testing
@testable import BackgroundCopy

/// A fresh directory and database path for one test; removed when the test ends.
final class Scratch {
    let directory: String

    init(_ name: String = #function) {
        let base = FileManager.default.temporaryDirectory.path
        directory = "\(base)/bgcopy-tests-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    var database: String { "\(directory)/queue.sqlite" }

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    func open(_ configuration: QueueManager.Configuration = .init()) throws -> QueueManager {
        try QueueManager(path: database, configuration: configuration)
    }
}
