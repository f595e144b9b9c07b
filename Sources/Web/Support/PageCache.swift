import Foundation
import NIOCore
import Synchronization

/// Campaign pages as first shown (empty form), rendered once per campaign and language and kept for a moment:
/// a campaign's page is the one URL a crowd hits at once. Each visitor's form token goes into a copy.
///
/// A change to the campaign (paused, closed, updated by the command line in another process) shows within
/// `lifetime`; the form posts check the campaign anew, so nothing is taken in that time that should not be.
final class PageCache: Sendable {
    /// 43 characters, like a token, and nothing HTML escaping would change.
    static let tokenMark = "TOKENMARK" + String(repeating: "0", count: 34)

    struct Page: Sendable {
        /// The page's bytes, cut where the form token goes.
        let pieces: [ByteBuffer]

        func body(token: String) -> ByteBuffer {
            var body = ByteBuffer()
            body.reserveCapacity(pieces.reduce(0) { $0 + $1.readableBytes } + token.utf8.count * (pieces.count - 1))
            for (index, piece) in pieces.enumerated() {
                if index > 0 { body.writeString(token) }
                body.writeImmutableBuffer(piece)
            }
            return body
        }
    }

    private struct Entry {
        var page: Page?
        var expires: Date
        /// When a request began rendering the page anew; meanwhile the others are served the page it replaces.
        var refreshingSince: Date?
    }

    private let entries = Mutex<[String: Entry]>([:])
    let lifetime: TimeInterval

    init(lifetime: TimeInterval = 2) {
        self.lifetime = lifetime
    }

    /// The page to serve, or `nil` when the caller is to render it and ``store(_:slug:language:now:)`` it. When
    /// the page expires, one request renders it while the others are still served the old one: a crowd never
    /// renders it all at once.
    func page(slug: String, language: String, now: Date) -> Page? {
        entries.withLock { entries in
            let key = "\(slug)|\(language)"
            guard var entry = entries[key] else {
                // Bounded: slugs and languages come from the request, and a key is made before the slug is known.
                if entries.count > 1000 { entries.removeAll() }
                entries[key] = Entry(page: nil, expires: now, refreshingSince: now)
                return nil
            }
            if let page = entry.page, entry.expires > now { return page }
            if let page = entry.page, let since = entry.refreshingSince, now.timeIntervalSince(since) < 5 { return page }
            entry.refreshingSince = now
            entries[key] = entry
            return nil
        }
    }

    /// Keeps `html` (rendered with ``tokenMark`` as the form token) and returns it ready to fill.
    @discardableResult
    func store(_ html: String, slug: String, language: String, now: Date) -> Page {
        let page = Page(pieces: html.components(separatedBy: Self.tokenMark).map { ByteBuffer(string: $0) })
        entries.withLock { entries in
            if entries.count > 1000 { entries.removeAll() }
            entries["\(slug)|\(language)"] = Entry(page: page, expires: now.addingTimeInterval(lifetime), refreshingSince: nil)
        }
        return page
    }

    /// Forgets every page: a change made through this server shows at once.
    func clear() {
        entries.withLock { $0.removeAll() }
    }
}
