import Foundation

extension InvariantChecker {
    /// I13 and the properties part of I1 and I2: what calls that failed or set properties left.
    /// A refused batch left no row at all; a group's display name and description come from one
    /// and the same call (or neither from any); and they are those of the last acknowledged call
    /// that set them, or of a later one that was not acknowledged.
    func checkCalls(_ database: RawDatabase, files: [FileRow], _ fail: (String, String) -> Void) throws(RawDatabase.Failure) {
        var attempts: [UUID: [Properties]] = [:], acknowledged: [UUID: Int] = [:]
        for entry in acks.all {
            switch entry {
            case .filesRefused(let group, let batch):
                for ref in batch where files.contains(where: { $0.group == group && $0.local == ref.local }) {
                    fail("I13", "\(ref.local) of a batch refused for \(group) exists: a failed call's writes were kept")
                }
            case .propertiesAttempted(let group, let name, let description):
                attempts[group, default: []].append(Properties(name: name, description: description))
            case .propertiesSet(let group, let name, let description):
                acknowledged[group] = attempts[group]?.lastIndex(of: Properties(name: name, description: description))
            default: break
            }
        }
        guard !attempts.isEmpty else { return }
        var stored: [UUID: Properties] = [:]
        for row in try database.rows("SELECT uuid, display_name, description FROM groups") {
            if let id = row[0].uuid { stored[id] = Properties(name: row[1].string, description: row[2].string) }
        }
        for (group, tried) in attempts {
            guard let properties = stored[group] else { continue }  // a missing group is I1's
            let index = tried.lastIndex(of: properties)
            let mixed = index == nil && tried.contains { $0.name == properties.name || $0.description == properties.description }
            if let last = acknowledged[group], (index ?? -1) < last {
                fail("I1", "group \(group) is named \"\(properties.name)\", not \"\(tried[last].name)\" (acknowledged) or later")
            } else if mixed {
                fail("I2", "group \(group) has the name \"\(properties.name)\" and description \"\(properties.description)\" of two calls")
            }
        }
    }

    /// A group's display name and description.
    struct Properties: Equatable {
        let name: String
        let description: String
    }
}
