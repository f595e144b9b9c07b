import Appeals
import Crypto
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `appeal-cli serve`'s web server: campaign pages, supporters' confirmation, and the organizers' dashboard.
public struct WebServer: Sendable {
    let site: WebSite

    /// - Parameters:
    ///   - adminSecret: the dashboard's secret (from the variable `web.adminSecretEnv` names); `nil`: the
    ///     dashboard is closed.
    ///   - outboxWaiting: called when a confirmation email is stored, to wake the ``ConfirmationMailer``.
    /// - Throws: ``AppealsError/invalidInput(_:)`` for a secret shorter than 16 characters.
    public init(store: any WebStore, config: AppConfig, adminSecret: String?,
                now: @escaping @Sendable () -> Date = Date.init, outboxWaiting: @escaping @Sendable () -> Void = {},
                logger: Logger) async throws(AppealsError) {
        if let adminSecret, adminSecret.count < 16 {
            throw .invalid(InputLocation(file: "environment", field: config.web.adminSecretEnv),
                           "the dashboard's secret must be at least 16 characters (it has \(adminSecret.count))")
        }
        let key = try await store.webKey()
        let base = URLComponents(string: config.web.baseURL)
        let origin = base.map { "\($0.scheme ?? "http")://\($0.host ?? "")" + ($0.port.map { ":\($0)" } ?? "") } ?? config.web.baseURL
        site = WebSite(
            store: store, config: config, pages: try Self.loadPages(), forms: FormGuard(key: key, origin: origin, secureCookies: base?.scheme == "https"),
            admin: AdminSession(key: key, secretHash: adminSecret.map { Data(SHA256.hash(data: Data($0.utf8))) }),
            messageIDs: MessageIDGenerator(domain: config.sender.domain), now: now,
            outboxWaiting: outboxWaiting, logger: logger)
    }

    private static func loadPages() throws(AppealsError) -> Pages {
        do {
            return try Pages()
        } catch {
            throw .storage("the web pages' templates do not load: \(error)")
        }
    }

    /// Every route, behind the security headers.
    public func router() -> Router<WebContext> {
        let router = Router(context: WebContext.self)
        router.add(middleware: SecurityHeadersMiddleware())
        let site = self.site
        router.get("/static/site.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: site.pages.stylesheet)))
        }
        for path in ["/static/icon.svg", "/favicon.ico"] {
            router.get(RouterPath(path)) { _, _ in
                Response(status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "public, max-age=86400"],
                         body: .init(byteBuffer: ByteBuffer(string: site.pages.icon)))
            }
        }
        router.get("/") { _, _ in
            let campaigns = try await site.store.campaigns()
            let links = campaigns.filter { $0.status == .active }.map { ["url": "/c/\($0.slug)", "text": $0.title] }
            return site.message("Campaigns", links.isEmpty ? ["No campaign is open at the moment."] : [], language: "en", links: links)
        }
        router.get("/healthz") { _, _ in "ok\n" }
        router.head("/healthz") { _, _ in HTTPResponse.Status.ok }
        CampaignPageController(site: site).addRoutes(to: router)
        ConfirmationController(site: site).addRoutes(to: router)
        AdminController(site: site).addRoutes(to: router)
        return router
    }

    /// The HTTP server on `web.listen`, running `services` beside it in one service group.
    public func application(services: [any Service] = []) -> some ApplicationProtocol {
        let (host, port) = site.config.web.listenAddress
        // A connection idle for 30 s is closed: slow clients cannot hold connections, nor a graceful stop, for long.
        return Application(router: router(), server: .http1(configuration: .init(idleTimeout: .seconds(30))),
                           configuration: .init(address: .hostname(host, port: port), serverName: nil),
                           services: services, logger: site.logger)
    }
}
