# Golden values for trkres.assays.invivo.lmm (issue 14): nlme REML fits of
#   log(V/V0) ~ 0 + time:arm, random = ~0 + time | mouse
# with every variance structure of lmm.VARIANCES, on the synthetic inputs of
# tools/golden/make_invivo_inputs.py (tests/data/invivo/lmm_<name>.tsv).
#
# Run from the repository root (dev only; CI reads the committed output):
#   python tools/golden/make_invivo_inputs.py
#   Rscript tools/golden/invivo_lmm.R
# Needs R >= 4 with nlme, clubSandwich, emmeans, lme4, lmerTest, pbkrtest (Debian: r-cran-*).
# Writes tests/data/invivo/lmm_golden.tsv (dataset, variance, quantity, name, value) and
# lmm_golden_diagnostics.tsv; `Rscript tools/golden/invivo_lmm.R diagnostics` redoes only
# the second (the first takes about 4 minutes).
suppressPackageStartupMessages({
  library(nlme); library(clubSandwich); library(emmeans)
  library(lme4); library(lmerTest); library(pbkrtest)
})
emm_options(lmer.df = "satterthwaite")
dir <- "tests/data/invivo"
datasets <- c("balanced", "dropout", "power", "arms")
variances <- c("none", "arm", "mouse", "time-power", "arm+time-power", "mouse+time-power")
weights_for <- function(v) switch(v,
  "none" = NULL,
  "arm" = varIdent(form = ~1 | arm),
  "mouse" = varIdent(form = ~1 | mouse_id),
  "time-power" = varPower(form = ~time),
  "arm+time-power" = varComb(varIdent(form = ~1 | arm), varPower(form = ~time)),
  "mouse+time-power" = varComb(varIdent(form = ~1 | mouse_id), varPower(form = ~time)))
ctrl <- lmeControl(maxIter = 1000, msMaxIter = 1000, niterEM = 200, msMaxEval = 5000,
                   tolerance = 1e-10, msTol = 1e-12, returnObject = TRUE)
only_diagnostics <- identical(commandArgs(trailingOnly = TRUE), "diagnostics")

# Satterthwaite df by definition, independently of emmeans' approximations: the REML
# log-likelihood written out with dense per-mouse covariance matrices, its Hessian and the
# gradient of L (X'V^-1X)^-1 L' by numDeriv (Richardson) at nlme's estimates; A = inverse
# observed information of theta = (log sigma, log tau, log varIdent ratios to the first
# arm or mouse, varPower exponent). varIdent by mouse (one parameter per mouse: slow) on
# the dataset "dropout" only.
reml_parts <- function(theta, d, v) {
  arms <- levels(d$arm)
  ls <- theta[1]; lt <- theta[2]; k <- 3
  lg <- rep(0, nrow(d))
  if (startsWith(v, "arm")) {
    ident <- c(0, theta[k:(k + length(arms) - 2)]); k <- k + length(arms) - 1
    lg <- lg + ident[as.integer(d$arm)]
  }
  if (startsWith(v, "mouse")) {
    nm <- nlevels(d$mouse_id)
    ident <- c(0, theta[k:(k + nm - 2)]); k <- k + nm - 1
    lg <- lg + ident[as.integer(d$mouse_id)]
  }
  if (endsWith(v, "time-power")) lg <- lg + theta[k] * log(d$time)
  X <- model.matrix(~ 0 + time:arm, d)
  XtVX <- matrix(0, ncol(X), ncol(X)); XtVy <- rep(0, ncol(X)); ldet <- 0
  blocks <- split(seq_len(nrow(d)), d$mouse_id, drop = TRUE)
  inv <- list()
  for (m in names(blocks)) {
    i <- blocks[[m]]; z <- d$time[i]
    V <- exp(2 * lt) * outer(z, z) + diag(exp(2 * ls) * exp(2 * lg[i]), nrow = length(i))
    Vi <- solve(V); inv[[m]] <- Vi
    ldet <- ldet + as.numeric(determinant(V)$modulus)
    XtVX <- XtVX + t(X[i, , drop = FALSE]) %*% Vi %*% X[i, , drop = FALSE]
    XtVy <- XtVy + t(X[i, , drop = FALSE]) %*% Vi %*% d$log_rtv[i]
  }
  beta <- solve(XtVX, XtVy); e <- d$log_rtv - X %*% beta; q <- 0
  for (m in names(blocks)) { i <- blocks[[m]]; q <- q + as.numeric(t(e[i]) %*% inv[[m]] %*% e[i]) }
  list(ll = -0.5 * ((nrow(d) - ncol(X)) * log(2 * pi) + ldet +
                      as.numeric(determinant(XtVX)$modulus) + q),
       phi = solve(XtVX))
}
theta_of <- function(fit, d, v) {
  arms <- levels(d$arm); s <- fit$sigma; th <- c(log(s), log(sqrt(as.numeric(getVarCov(fit)))))
  if (v != "none") {
    cf <- coef(fit$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
    names(cf) <- sub("^[AB]\\.", "", names(cf))
    if (startsWith(v, "arm")) {
      r <- cf[arms] / cf[[arms[1]]]
      th[1] <- log(s * cf[[arms[1]]]); th <- c(th, log(r[-1]))
    }
    if (startsWith(v, "mouse")) {
      mice <- levels(d$mouse_id)
      r <- cf[mice] / cf[[mice[1]]]
      th[1] <- log(s * cf[[mice[1]]]); th <- c(th, log(r[-1]))
    }
    if (endsWith(v, "time-power")) th <- c(th, cf[["power"]])
  }
  unname(th)
}
out <- list()
add <- function(ds, v, q, n, x) out[[length(out) + 1]] <<-
  data.frame(dataset = ds, variance = v, quantity = q, name = n, value = as.numeric(x))
prepare <- function(path) {
  d <- read.delim(path, stringsAsFactors = FALSE)
  t0 <- min(d$day)
  base <- d[d$day == t0, c("mouse_id", "volume")]
  names(base)[2] <- "v0"
  d <- merge(d, base, by = "mouse_id")
  d <- d[d$day != t0 & d$volume > 0, ]
  d$time <- d$day - t0
  d$log_rtv <- log(d$volume / d$v0)
  d$arm <- factor(d$arm, levels = unique(read.delim(path)$arm))
  d$mouse_id <- factor(d$mouse_id)
  d[order(d$arm, d$mouse_id, d$day), ]
}
for (ds in if (only_diagnostics) character(0) else datasets) {
  d <- prepare(file.path(dir, paste0("lmm_", ds, ".tsv")))
  for (v in variances) {
    args <- list(fixed = log_rtv ~ 0 + time:arm, random = ~0 + time | mouse_id, data = d,
                 method = "REML", control = ctrl)
    w <- weights_for(v)
    if (!is.null(w)) args$weights <- w
    fit <- tryCatch(do.call(lme, args), error = function(e) NULL)
    if (is.null(fit)) { add(ds, v, "failed", "", 1); next }
    arms <- levels(d$arm)
    b <- fixef(fit); se <- sqrt(diag(vcov(fit)))
    add(ds, v, "beta", arms, b); add(ds, v, "se", arms, se)
    add(ds, v, "df_residual", arms, summary(fit)$tTable[, "DF"])
    add(ds, v, "sigma", "", fit$sigma)
    add(ds, v, "tau", "", sqrt(as.numeric(getVarCov(fit))))
    add(ds, v, "loglik", "", as.numeric(logLik(fit)))
    add(ds, v, "aic", "", AIC(fit)); add(ds, v, "bic", "", BIC(fit))
    if (!is.null(w)) {
      vf <- fit$modelStruct$varStruct
      cf <- coef(vf, unconstrained = FALSE, allCoef = TRUE)
      add(ds, v, "varpar", names(cf), cf)
    }
    rob <- tryCatch(sqrt(diag(as.matrix(vcovCR(fit, type = "CR2")))), error = function(e) rep(NA, length(arms)))
    add(ds, v, "se_cr2", arms, rob)
    ct <- tryCatch(coef_test(fit, vcov = "CR2", test = "Satterthwaite"), error = function(e) NULL)
    if (!is.null(ct)) add(ds, v, "df_cr2", arms, ct$df_Satt)
    lc <- tryCatch(linear_contrast(fit, vcov = "CR2", test = "Satterthwaite",
                                   contrasts = constrain_pairwise(1:length(arms))),
                   error = function(e) NULL)
    if (!is.null(lc)) {
      add(ds, v, "pair_se_cr2", as.character(lc$Coef), lc$SE)
      add(ds, v, "pair_df_cr2", as.character(lc$Coef), lc$df)
    }
    em <- tryCatch(emmeans(fit, ~ arm, mode = "satterthwaite", at = list(time = 1),
                           data = d), error = function(e) NULL)
    if (!is.null(em)) {
      s <- summary(em)
      add(ds, v, "df_satt", as.character(s$arm), s$df)
      pw <- summary(pairs(em, adjust = "none"))
      add(ds, v, "pair_df_satt", as.character(pw$contrast), pw$df)
      add(ds, v, "pair_se", as.character(pw$contrast), pw$SE)
    }
    if (!startsWith(v, "mouse") || ds == "dropout") {
      th <- theta_of(fit, d, v)
      add(ds, v, "exact_ll_check", "", reml_parts(th, d, v)$ll - as.numeric(logLik(fit)))
      H <- numDeriv::hessian(function(t) -reml_parts(t, d, v)$ll, th)
      A <- solve(H)
      Ls <- list(); nms <- c()
      for (j in seq_along(arms)) { L <- rep(0, length(arms)); L[j] <- 1; Ls[[length(Ls) + 1]] <- L; nms <- c(nms, arms[j]) }
      for (i in 1:(length(arms) - 1)) for (j in (i + 1):length(arms)) {
        L <- rep(0, length(arms)); L[i] <- 1; L[j] <- -1
        Ls[[length(Ls) + 1]] <- L; nms <- c(nms, paste(arms[i], "-", arms[j]))
      }
      for (j in seq_along(Ls)) {
        L <- Ls[[j]]
        gfun <- function(t) as.numeric(t(L) %*% reml_parts(t, d, v)$phi %*% L)
        g0 <- gfun(th); gr <- numDeriv::grad(gfun, th)
        add(ds, v, "df_satt_exact", nms[j], 2 * g0^2 / as.numeric(t(gr) %*% A %*% gr))
      }
    }
    if (v == "none") {
      m4 <- lmer(log_rtv ~ 0 + time:arm + (0 + time | mouse_id), data = d, REML = TRUE,
                 control = lmerControl(optimizer = "bobyqa"))
      co <- summary(m4)$coefficients
      add(ds, v, "lmer_beta", arms, co[, "Estimate"])
      add(ds, v, "lmer_df_satt", arms, co[, "df"])
      for (j in seq_along(arms)) {
        L <- matrix(0, 1, length(arms)); L[1, j] <- 1
        add(ds, v, "df_kr", arms[j], pbkrtest::get_Lb_ddf(m4, L))
        add(ds, v, "se_kr", arms[j], sqrt(as.numeric(L %*% as.matrix(vcovAdj(m4)) %*% t(L))))
      }
      k <- 0
      for (i in 1:(length(arms) - 1)) for (j in (i + 1):length(arms)) {
        L <- matrix(0, 1, length(arms)); L[1, i] <- 1; L[1, j] <- -1
        nm <- paste(arms[i], "-", arms[j])
        add(ds, v, "pair_df_kr", nm, pbkrtest::get_Lb_ddf(m4, L))
        add(ds, v, "pair_se_kr", nm, sqrt(as.numeric(L %*% as.matrix(vcovAdj(m4)) %*% t(L))))
        add(ds, v, "pair_df_lmer_satt", nm, lmerTest::contest(m4, L, joint = FALSE)$df)
      }
    }
  }
}
if (!only_diagnostics) write.table(do.call(rbind, out), file.path(dir, "lmm_golden.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)

# ---- diagnostics (tests/data/invivo/lmm_golden_diagnostics.tsv): dataset "dropout".
# Per row: level-1 fitted values and Pearson residuals; per mouse: ranef (BLUP), Cook's
# distance on the fixed effects from REML leave-one-mouse-out refits (SynergyLMM
# CookDistance(type = "fixef")), likelihood displacement 2 [l(ML fit) - l(ML LOO estimates;
# all data)] (Verbeke & Molenberghs; SynergyLMM logLikSubjectDisplacements without its
# varIdent short cut), the ML log-likelihood at the LOO estimates computed from the
# marginal covariance by hand.
diag_out <- list()
addd <- function(v, q, m, day, x) diag_out[[length(diag_out) + 1]] <<-
  data.frame(variance = v, quantity = q, mouse_id = m, day = day, value = as.numeric(x))
d <- prepare(file.path(dir, "lmm_dropout.tsv"))
ml_loglik <- function(f, d) {
  beta <- fixef(f); s <- f$sigma; tau2 <- as.numeric(getVarCov(f))
  sd <- rep(s, nrow(d))
  vs <- f$modelStruct$varStruct
  if (!is.null(vs)) {
    cf <- coef(vs, unconstrained = FALSE, allCoef = TRUE)
    names(cf) <- sub("^[AB]\\.", "", names(cf))
    if ("power" %in% names(cf)) sd <- sd * d$time^cf[["power"]]
    arm_cf <- cf[names(cf) %in% levels(d$arm)]
    if (length(arm_cf)) sd <- sd * arm_cf[as.character(d$arm)]
  }
  X <- model.matrix(~ 0 + time:arm, d)
  e <- d$log_rtv - as.numeric(X %*% beta)
  ll <- 0
  for (m in levels(d$mouse_id)) {
    k <- d$mouse_id == m
    if (!any(k)) next
    z <- d$time[k]
    V <- tau2 * outer(z, z) + diag(sd[k]^2, nrow = sum(k))
    ll <- ll - 0.5 * (sum(k) * log(2 * pi) + as.numeric(determinant(V)$modulus) +
                        as.numeric(t(e[k]) %*% solve(V, e[k])))
  }
  ll
}
for (v in c("none", "time-power", "arm", "arm+time-power")) {
  args <- list(fixed = log_rtv ~ 0 + time:arm, random = ~0 + time | mouse_id, data = d,
               method = "REML", control = ctrl)
  w <- weights_for(v)
  if (!is.null(w)) args$weights <- w
  fit <- do.call(lme, args)
  addd(v, "fitted", as.character(d$mouse_id), d$day, fitted(fit, level = 1))
  addd(v, "pearson", as.character(d$mouse_id), d$day, residuals(fit, level = 1, type = "pearson"))
  re <- ranef(fit)
  addd(v, "blup", rownames(re), NA, re[, 1])
  b0 <- fixef(fit); vinv <- solve(vcov(fit)); p <- length(b0)
  args_ml <- args; args_ml$method <- "ML"
  fit_ml <- do.call(lme, args_ml)
  ll_full <- as.numeric(logLik(fit_ml))
  addd(v, "ml_loglik_check", "", NA, ll_full - ml_loglik(fit_ml, d))
  for (m in levels(d$mouse_id)) {
    a <- args; a$data <- droplevels(d[d$mouse_id != m, ])
    fu <- do.call(lme, a)
    db <- b0 - fixef(fu)
    addd(v, "cooks_distance", m, NA, as.numeric(t(db) %*% vinv %*% db) / p)
    a$method <- "ML"
    fu_ml <- do.call(lme, a)
    addd(v, "likelihood_displacement", m, NA, 2 * (ll_full - ml_loglik(fu_ml, d)))
  }
}
write.table(do.call(rbind, diag_out), file.path(dir, "lmm_golden_diagnostics.tsv"), sep = "\t",
            quote = FALSE, row.names = FALSE)
