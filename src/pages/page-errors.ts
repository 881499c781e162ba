/** Errors on the pages become pages: a sentence a person can act on, never a stack trace or JSON. */
import type { FastifyInstance } from "fastify";
import { isOAuthError } from "../domain/oauth-error.js";
import { outcomePage } from "./outcome-pages.js";
import { sendHtml } from "./web-headers.js";

/** Sets the error and not-found handlers of the pages' scope. */
export function pageErrors(app: FastifyInstance, base: string): void {
  app.setErrorHandler((error, request, reply) => {
    const page = (status: number, title: string, message: string) =>
      sendHtml(
        reply,
        status,
        outcomePage({ base, tone: "info", title, message, again: "Back to code entry" }),
      );
    if (isOAuthError(error)) {
      if (error.code === "temporarily_unavailable") {
        request.log.warn({ reqId: request.id, err: error.cause }, "state store unavailable");
        reply.header("retry-after", "5");
        return page(
          503,
          "Please try again",
          "We can't reach our storage right now. Wait a few seconds and try again.",
        );
      }
      return page(
        400,
        "That didn't work",
        "The form was incomplete or changed. Go back and try again.",
      );
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    const code = (error as { code?: string }).code ?? "";
    if (code.startsWith("FST_CSRF_")) {
      return page(
        403,
        "This form has expired",
        "For your safety the form could not be accepted. Go back, reload the page and try again.",
      );
    }
    if (status === 413) return page(413, "Too much data", "The form sent more data than expected.");
    if (status >= 400 && status < 500) {
      return page(
        status === 415 ? 415 : 400,
        "That didn't work",
        "The request could not be understood. Go back and try again.",
      );
    }
    request.log.error({ reqId: request.id, err: error }, "unhandled error");
    return page(
      500,
      "Something went wrong",
      "Something went wrong on our side. Try again in a moment.",
    );
  });

  app.setNotFoundHandler((_request, reply) =>
    sendHtml(
      reply,
      404,
      outcomePage({
        base,
        tone: "info",
        title: "Page not found",
        message: "There is nothing at this address.",
        again: "Go to code entry",
      }),
    ),
  );
}
