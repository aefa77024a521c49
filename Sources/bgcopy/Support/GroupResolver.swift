import BackgroundCopy
import Foundation

/// Turns the GROUP argument into a group: a full ID, a unique prefix of an ID (any case), or a
/// unique display name (exact, case-sensitive).
///
/// A full ID that names a live group wins outright. Otherwise every live group whose ID starts
/// with the text or whose display name equals it is a candidate: none is "not found" (exit 3),
/// more than one is ambiguous (exit 2) and the error lists the candidates.
struct GroupResolver {
    let manager: QueueManager

    func resolve(_ text: String) throws -> Group {
        guard !text.isEmpty else { throw CLIError.usage("GROUP must not be empty") }
        // A display name may look like an ID: an ID that names no live group falls through to
        // the name match (which also surfaces any storage error).
        if let id = GroupID(text), let group = try? manager.group(id) { return group }
        let prefix = text.lowercased()
        var candidates: [(group: Group, name: String)] = []
        for group in try manager.groups() {
            guard let properties = try? group.properties() else { continue }  // cancelled meanwhile
            if group.id.description.hasPrefix(prefix) || properties.displayName == text {
                candidates.append((group, properties.displayName))
            }
        }
        switch candidates.count {
        case 1:
            return candidates[0].group
        case 0:
            throw CLIError(
                .notFound, "no live group has the ID, ID prefix or name '\(text)'",
                hint: "`bgcopy list --all` shows the live groups")
        default:
            let list = candidates.map { "\($0.group.id) \"\($0.name)\"" }.joined(separator: ", ")
            throw CLIError(
                .usage, "'\(text)' is ambiguous: it matches \(candidates.count) groups: \(list)",
                hint: "give more of the ID")
        }
    }
}
