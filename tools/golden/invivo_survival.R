# Golden values for trkres.assays.invivo.survival from R's survival package (dev only).
#
# Needs: R >= 4 with the 'survival' package (Debian: r-base-core, r-cran-survival).
# Run from the repository root, after the inputs script:
#     python tools/golden/make_invivo_survival_inputs.py
#     Rscript tools/golden/invivo_survival.R
# Reads tests/data/invivo/survival_inputs.tsv; writes tests/data/invivo/survival_km.tsv,
# survival_median.tsv, survival_logrank.tsv and survival_cox.tsv (numbers with 17
# significant digits). CI has no R: the tests read the committed files.
#
# Calls: survfit(Surv(time, event) ~ arm) with its defaults (conf.type = "log",
# conf.int = 0.95, Greenwood std.err); summary(fit)$table for medians and their CIs;
# survdiff(Surv(time, event) ~ arm) (log-rank, rho = 0) over all arms and for each arm
# against the control "ctl"; coxph(Surv(time, event) ~ arm, ties = "efron") with "ctl"
# as the reference level.

suppressPackageStartupMessages(library(survival))

dir <- file.path("tests", "data", "invivo")
inp <- read.delim(file.path(dir, "survival_inputs.tsv"), stringsAsFactors = FALSE)

fmt <- function(df) {
  for (nm in names(df)) {
    if (is.double(df[[nm]])) {
      x <- df[[nm]]
      s <- sprintf("%.17g", x)
      s[is.na(x)] <- "NA"
      df[[nm]] <- s
    }
  }
  df
}
out <- function(df, name) {
  write.table(fmt(df), file.path(dir, name), sep = "\t", quote = FALSE,
              row.names = FALSE, na = "NA")
}

km_rows <- list(); med_rows <- list(); lr_rows <- list(); cox_rows <- list()
for (ds in unique(inp$dataset)) {
  d <- inp[inp$dataset == ds, ]
  arms <- unique(d$arm)
  d$arm <- factor(d$arm, levels = c("ctl", setdiff(arms, "ctl")))
  for (a in levels(d$arm)) {
    f <- survfit(Surv(time, event) ~ 1, data = d[d$arm == a, ])
    km_rows[[length(km_rows) + 1]] <- data.frame(
      dataset = ds, arm = a, time = f$time, n_risk = as.double(f$n.risk),
      n_event = as.double(f$n.event), n_censor = as.double(f$n.censor),
      surv = f$surv, std_err = f$std.err, lower = f$lower, upper = f$upper)
    tab <- summary(f)$table
    med_rows[[length(med_rows) + 1]] <- data.frame(
      dataset = ds, arm = a, n = as.double(tab[["records"]]),
      events = as.double(tab[["events"]]), median = as.double(tab[["median"]]),
      lower = as.double(tab[["0.95LCL"]]), upper = as.double(tab[["0.95UCL"]]))
  }
  sd <- survdiff(Surv(time, event) ~ arm, data = d)
  df <- length(sd$n) - 1
  lr_rows[[length(lr_rows) + 1]] <- data.frame(
    dataset = ds, comparison = "all", chisq = sd$chisq, df = as.double(df),
    p = pchisq(sd$chisq, df, lower.tail = FALSE))
  for (a in setdiff(levels(d$arm), "ctl")) {
    s2 <- survdiff(Surv(time, event) ~ arm, data = droplevels(d[d$arm %in% c("ctl", a), ]))
    lr_rows[[length(lr_rows) + 1]] <- data.frame(
      dataset = ds, comparison = paste(a, "vs ctl"), chisq = s2$chisq, df = 1,
      p = pchisq(s2$chisq, 1, lower.tail = FALSE))
  }
  cx <- coxph(Surv(time, event) ~ arm, data = d, ties = "efron")
  cf <- summary(cx)$coefficients
  ci <- summary(cx)$conf.int
  cox_rows[[length(cox_rows) + 1]] <- data.frame(
    dataset = ds, arm = sub("^arm", "", rownames(cf)), coef = cf[, "coef"],
    se = cf[, "se(coef)"], hr = cf[, "exp(coef)"], lower = ci[, "lower .95"],
    upper = ci[, "upper .95"], p = cf[, "Pr(>|z|)"], loglik = cx$loglik[2])
}
out(do.call(rbind, km_rows), "survival_km.tsv")
out(do.call(rbind, med_rows), "survival_median.tsv")
out(do.call(rbind, lr_rows), "survival_logrank.tsv")
out(do.call(rbind, cox_rows), "survival_cox.tsv")
cat("wrote survival_km/median/logrank/cox.tsv with survival", format(packageVersion("survival")), "\n")
