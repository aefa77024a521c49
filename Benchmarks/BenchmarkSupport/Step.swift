import BackgroundCopy

/// One sample of a benchmark: `prepare` (not measured), `run` (measured), `finish` (not measured).
///
/// Operations that change what they act on get their precondition back in `prepare` or
/// `finish` — a resume needs a suspended group, a complete a finalizing file — so every sample
/// measures the same call on the same kind of queue.
package final class Step {
    package let prepare: () -> Void
    package let run: () -> Void
    package let finish: () -> Void

    package init(prepare: @escaping () -> Void = {}, run: @escaping () -> Void, finish: @escaping () -> Void = {}) {
        self.prepare = prepare
        self.run = run
        self.finish = finish
    }
}

/// The local paths and remote URLs of the files a benchmark adds, unique within a run.
package final class FileNames {
    private let prefix: String
    private var next = 0

    /// `label` becomes part of URLs and paths: letters and digits only.
    package init(_ label: String) {
        prefix = "\(label)-\(UInt32.random(in: .min ... .max))"
    }

    /// The next `count` file specs, in order.
    package func specs(_ count: Int) -> [FileSpec] {
        defer { next += count }
        return (next..<next + count).map { index in
            FileSpec(
                remote: "https://downloads.example.com/\(prefix)/\(index).bin",
                local: "\(Workspace.downloads)/\(prefix)-\(index).bin", sizeHint: 65536)
        }
    }
}
