import BackgroundCopy

/// The backlog every row starts from: groups of 100 queued files, added and resumed through the
/// library (the same calls on both backends).
enum Backlog {
    static let filesPerGroup = 100
    /// How many tasks fill a PostgreSQL queue at once.
    static let writers = 8

    /// The files of group number `group`, their local paths under `downloads` (never written).
    static func specs(group: Int, downloads: String) -> [FileSpec] {
        (0..<filesPerGroup).map { index in
            FileSpec(remote: "https://downloads.example.com/fleet/\(group)/\(index).bin", local: "\(downloads)/\(group)-\(index).bin")
        }
    }

    /// Fills a SQLite queue with `groups` groups.
    static func fill(_ manager: QueueManager, groups: Int, downloads: String) throws {
        for group in 0..<groups {
            let created = try manager.createGroup(properties: GroupProperties(displayName: "backlog \(group)"))
            try created.createJob().addFiles(specs(group: group, downloads: downloads))
            try created.resume()
        }
    }

    /// Fills a PostgreSQL queue with `groups` groups, from ``writers`` tasks at once.
    static func fill(_ queue: PostgresQueueManager, groups: Int, downloads: String) async throws {
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for writer in 0..<writers {
                tasks.addTask {
                    for group in stride(from: writer, to: groups, by: writers) {
                        let created = try await queue.createGroup(properties: GroupProperties(displayName: "backlog \(group)"))
                        try await created.createJob().addFiles(specs(group: group, downloads: downloads))
                        try await created.resume()
                    }
                }
            }
            try await tasks.waitForAll()
        }
    }
}
