import HTTPTypes
import Hummingbird
import Logging

/// Adds the security headers to every response, and turns errors into short HTML pages that say nothing
/// of the server's insides.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = WebContext

    /// No script at all; styles from our stylesheet only; forms post to us only; never framed.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPResponseError {
            response = Self.errorPage(error.status)
        } catch {
            context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = Self.errorPage(.internalServerError)
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        // Not `no-referrer`: with it, browsers send `Origin: null` on our own forms, and the origin check could not tell.
        response.headers[.referrerPolicy] = "same-origin"
        response.headers[.crossOriginOpenerPolicy] = "same-origin"
        return response
    }

    static func errorPage(_ status: HTTPResponse.Status) -> Response {
        let text = "\(status.code) \(status.reasonPhrase)"
        let html = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>\(text)</title>"
            + "<link rel=\"stylesheet\" href=\"/static/site.css\"></head><body><main><h1>\(text)</h1></main></body></html>"
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let crossOriginOpenerPolicy = Self("Cross-Origin-Opener-Policy")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
