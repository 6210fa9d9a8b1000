# Golden values for trkres in vivo synergy and power (issue 14). DEV-ONLY: CI has no R.
#
# Run from the repository root (after tools/golden/make_invivo_synergy_inputs.py):
#   Rscript tools/golden/invivo_synergy.R
# Needs: R >= 4 with nlme and clubSandwich (Debian: r-cran-nlme, r-cran-clubsandwich).
#
# Our own R code written from the method of SynergyLMM's lmmSynergy (Demidenko & Miller
# 2019): logRTV = log(V_t / V_t0) ~ 0 + Time:Treatment, random = ~ 0 + Time | mouse, REML;
# rows at t0 dropped, Time = day - t0; for every measured time d the model is refitted on
# Time <= d; Bliss contrast b_comb - sum(b_drug) + (k-1) b_ctrl, HSA b_comb - b_best (best =
# smallest single-agent slope of the full fit); Wald z (normal) test, 95 % normal CI;
# CI = exp(delta * d), SS = -delta / se. RA from nsim = 200000 normal draws of the slopes.
# Writes tests/data/invivo/synergy_golden.tsv and synergy_power_golden.tsv.
suppressPackageStartupMessages({
  library(nlme)
  library(clubSandwich)
})

prep <- function(path) {
  d <- read.delim(path, stringsAsFactors = FALSE)
  t0 <- min(d$day)
  base <- d[d$day == t0, c("mouse_id", "volume")]
  names(base)[2] <- "v0"
  d <- merge(d, base, by = "mouse_id")
  d <- d[d$day > t0 & d$volume > 0, ]
  d$Time <- d$day - t0
  d$logRTV <- log(d$volume / d$v0)
  d
}

fit_one <- function(d, arms, variance) {
  d$Treatment <- factor(d$arm, levels = arms)
  d$mouse <- factor(d$mouse_id)
  w <- switch(variance,
    none = NULL,
    "time-power" = varPower(form = ~Time),
    arm = varIdent(form = ~ 1 | Treatment)
  )
  ctl <- lmeControl(maxIter = 1000, msMaxIter = 1000, niterEM = 1000, msMaxEval = 1000)
  lme(logRTV ~ 0 + Time:Treatment, random = ~ 0 + Time | mouse, data = d,
      weights = w, method = "REML", control = ctl)
}

synergy_rows <- function(name, path, arms, variance, robust, ra_nsim) {
  d <- prep(path)
  k <- length(arms) - 2
  times <- sort(unique(d$Time))
  full <- fit_one(d, arms, variance)
  drugs <- 2:(k + 1)
  best <- drugs[which.min(fixef(full)[drugs])]
  out <- list()
  for (tt in times) {
    m <- fit_one(d[d$Time <= tt, ], arms, variance)
    b <- fixef(m)
    V <- if (robust) as.matrix(vcovCR(m, type = "CR2")) else vcov(m)
    wb <- c(k - 1, rep(-1, k), 1)
    wh <- rep(0, length(b)); wh[length(b)] <- 1; wh[best] <- -1
    for (meth in c("bliss", "hsa")) {
      w <- if (meth == "bliss") wb else wh
      est <- sum(w * b); se <- sqrt(drop(t(w) %*% V %*% w))
      lo <- est - qnorm(0.975) * se; hi <- est + qnorm(0.975) * se
      out[[length(out) + 1]] <- data.frame(
        dataset = name, variance = variance, robust = robust, method = meth, time = tt,
        estimate = est, std_error = se, combination_index = exp(est * tt),
        ci_low = exp(lo * tt), ci_high = exp(hi * tt), synergy_score = -est / se,
        ss_low = -hi / se, ss_high = -lo / se, p_value = 2 * pnorm(-abs(est / se)),
        n_mice = length(unique(m$data$mouse)), n_observations = nrow(m$data))
    }
    if (ra_nsim > 0) {
      set.seed(1)
      E <- eigen(V, symmetric = TRUE)
      Z <- matrix(rnorm(ra_nsim * length(b)), ra_nsim)
      B <- sweep(Z %*% diag(sqrt(pmax(E$values, 0))) %*% t(E$vectors), 2, b, "+")
      auc <- function(x) ifelse(abs(x * tt) < 1e-10, tt, expm1(x * tt) / x)
      lhs <- auc(B[, ncol(B)])
      rhs <- rowSums(sapply(drugs, function(j) auc(B[, j]))) - (k - 1) * auc(B[, 1])
      rhs[rhs < 0] <- 0
      delta <- lhs - rhs; ratio <- lhs / rhs; ratio[ratio == Inf] <- 100
      sdd <- sd(delta); qd <- quantile(delta, c(0.025, 0.975)); qr <- quantile(ratio, c(0.025, 0.975))
      out[[length(out) + 1]] <- data.frame(
        dataset = name, variance = variance, robust = robust, method = "ra", time = tt,
        estimate = median(delta), std_error = sdd, combination_index = median(ratio),
        ci_low = qr[[1]], ci_high = qr[[2]], synergy_score = -median(delta) / sdd,
        ss_low = -qd[[2]] / sdd, ss_high = -qd[[1]] / sdd,
        p_value = 2 * min(mean(delta <= 0), mean(delta >= 0)),
        n_mice = length(unique(m$data$mouse)), n_observations = nrow(m$data))
    }
  }
  do.call(rbind, out)
}

two <- "tests/data/invivo/synergy_two_drugs.tsv"
three <- "tests/data/invivo/synergy_three_drugs.tsv"
arms2 <- c("Control", "DrugA", "DrugB", "Combo")
arms3 <- c("Vehicle", "A", "B", "C", "ABC")
res <- rbind(
  synergy_rows("two_drugs", two, arms2, "none", FALSE, 200000),
  synergy_rows("two_drugs", two, arms2, "none", TRUE, 0),
  synergy_rows("two_drugs", two, arms2, "time-power", FALSE, 0),
  synergy_rows("two_drugs", two, arms2, "time-power", TRUE, 0),
  synergy_rows("three_drugs", three, arms3, "none", FALSE, 200000),
  synergy_rows("three_drugs", three, arms3, "none", TRUE, 0),
  synergy_rows("three_drugs", three, arms3, "arm", FALSE, 0)
)
write.table(format(res, digits = 15), "tests/data/invivo/synergy_golden.tsv",
            sep = "\t", quote = FALSE, row.names = FALSE)

# Analytic a priori power as nlmeU/SynergyLMM's Pwr: an lme on the noiseless design with
# the variance parameters held (maxIter = 0), its vcov rescaled to sigma, F = (L b)^2 /
# (L V L'), power = 1 - pf(qf(1 - alpha, 1, ddf), 1, ddf, ncp = F), ddf = anova's denDF.
# pdDiag(log(sd_ranef)) is on nlme's scale relative to sigma: the random-slope SD is
# sd_ranef * sigma. We record that SD (tau) so the Python side takes absolute SDs.
apriori <- function(npg, time, slopes, sd_rel, sgma, alpha = 0.05) {
  arms <- c("Control", "DrugA", "DrugB", "Combination")
  dts <- data.frame(SampleID = 1:(4 * npg), Treatment = gl(4, npg, labels = arms))
  dl <- merge(expand.grid(Time = time, SampleID = dts$SampleID), dts, sort = FALSE)
  dl$y <- slopes[as.integer(dl$Treatment)] * dl$Time
  pd1 <- pdDiag(log(sd_rel), form = ~ 0 + Time)
  ctl <- lmeControl(maxIter = 0, msMaxIter = 0, niterEM = 0, returnObject = TRUE, opt = "optim")
  fm <- lme(y ~ 0 + Time:Treatment, random = list(SampleID = pd1), data = dl, control = ctl)
  sc <- sgma / fm$sigma
  V <- fm$varFix * sc^2
  L <- c(1, -1, -1, 1)
  Fv <- drop((L %*% fixef(fm))^2 / (t(L) %*% V %*% L))
  ddf <- anova(fm, L = L)$denDF
  data.frame(npg = npg, times = paste(time, collapse = ","), slope_control = slopes[1],
             slope_a = slopes[2], slope_b = slopes[3], slope_comb = slopes[4],
             tau = sd_rel * sgma, sigma = sgma, alpha = alpha, F = Fv, ddf = ddf,
             var_contrast = drop(t(L) %*% V %*% L),
             power = 1 - pf(qf(1 - alpha, 1, ddf), 1, ddf, ncp = Fv))
}
pw <- rbind(
  apriori(5, c(0, 3, 5, 10), c(0.08, 0.07, 0.06, 0.03), 0.1, 0.1),
  apriori(8, c(0, 2, 4, 6, 8, 10, 12, 14, 16, 18), c(0.1, 0.08, 0.08, 0.05), 0.5, 0.15),
  apriori(4, c(0, 3, 7, 10, 14), c(0.12, 0.09, 0.08, 0.04), 0.2, 0.2)
)
write.table(format(pw, digits = 15), "tests/data/invivo/synergy_power_golden.tsv",
            sep = "\t", quote = FALSE, row.names = FALSE)
