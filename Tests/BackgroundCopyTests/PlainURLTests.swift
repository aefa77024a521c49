import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// The plain-URL fast path of `addFiles` accepts only what `URLComponents` accepts with a host and
/// no credentials; anything else goes to `URLComponents`, which decides.
@Suite("Validation: the plain http(s) URL fast path", .alongside)
struct PlainURLTests {
    @Test(arguments: [
        "http://example.test", "https://example.test/", "https://downloads.example.com/a/1.bin",
        "http://127.0.0.1:8080/s/f00001.bin", "https://h.test/p?q=1&r=a,b;c#frag", "https://h.test/%41%7e/x",
        "HTTPS://EXAMPLE.TEST/UP", "https://a-b.c.test:443/~user/(x)*!$'+=",
    ])
    func aPlainURLTakesTheFastPathAndURLComponentsAgrees(remote: String) {
        #expect(Validator.plainHTTPScheme(remote) == (remote.lowercased().hasPrefix("https") ? "https" : "http"))
        #expect(Self.componentsAccept(remote))
    }

    @Test(arguments: [
        "https://user@example.test/a", "https://user:pw@example.test/a", "http://[::1]:8080/a", "https://h.test/%zz",
        "https://h.test/%4", "https://h.test/a b", "https://h.test/a#b#c", "https:/h.test/a", "https:example.test/a",
        "https://:80/a", "https://h.test:/a", "https://h.test:123456/a", "https://h_t.test/a", "https://h.test/ä",
        "https://h.test/a|b", "https://h.test/a\"b", "https://h.test/<a>", "https://h.test/a\\b", "https://h.test/{a}",
        "ftp://h.test/a", "httpx://h.test/a", "http://", "https:", "http://h.test\t/a",
    ])
    func anythingElseIsLeftToURLComponents(remote: String) {
        #expect(Validator.plainHTTPScheme(remote) == nil)
    }

    /// Replay one case: the failure names its seed.
    @Test func noRandomURLTakesTheFastPathThatURLComponentsWouldRefuse() {
        let pieces = [
            "http", "https", ":", "//", "/", "h", "x.test", "-", ".", "_", "~", "@", "[", "]", "%", "%2F", "%g",
            "?", "#", "&", "=", "1", "65535", "99999", " ", "ä", "'", "(", "*", "+", ",", ";", "!", "$", "|", "\\",
        ]
        for seed in UInt64(1)...4_000 {
            var random = SplitMix64(seed: seed)
            let count = Int.random(in: 1...14, using: &random)
            let tail = (0..<count).map { _ in pieces.randomElement(using: &random)! }.joined()
            let remote = (Bool.random(using: &random) ? "https://" : "http://") + tail
            if Validator.plainHTTPScheme(remote) != nil {
                #expect(Self.componentsAccept(remote), "seed \(seed): \(remote) took the fast path, URLComponents refuses it")
            }
        }
    }

    private static func componentsAccept(_ remote: String) -> Bool {
        guard let components = URLComponents(string: remote) else { return false }
        return components.user == nil && components.password == nil && !(components.host ?? "").isEmpty
    }
}
