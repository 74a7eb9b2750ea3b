#!/usr/bin/python3
"""Reference values for tests/test_actmax.c: the density experts of
`lrpx prototype` fitted independently, in float64, with NumPy and
scikit-learn (never with lrpx).

    /usr/bin/python3 scripts/actmax_reference.py   # writes testdata/expected/actmax/

Files:
    gauss_data.npy   float32 200x6: a correlated Gaussian sample
    gauss_mean.npy   float64 6: its mean
    gauss_cov.npy    float64 6x6: its maximum-likelihood covariance (/N)
    ppca_data.npy    float32 120x30: rank-4 signal plus small noise
    ppca_cov.npy     float64 30x30: probabilistic PCA with 4 axes: the top
                     4 eigenpairs of the ML covariance plus the mean of the
                     other 26 eigenvalues on the rest (Tipping & Bishop)
    gmm_data.npy     float32 300x3: three separated clusters
    reference.json   mean log-likelihoods: the Gaussian and the PPCA model
                     (scipy.stats.multivariate_normal with the covariances
                     above), and sklearn GaussianMixture(3, 'full',
                     reg_covar=1e-6) on gmm_data (its score)
"""
import json
import os

import numpy as np
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "testdata", "expected", "actmax")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240603)
    # a full-covariance Gaussian
    a = rng.normal(size=(6, 6))
    x = (rng.normal(size=(200, 6)) @ a + rng.normal(size=6)).astype(np.float32)
    xd = x.astype(np.float64)
    mean = xd.mean(0)
    cov = (xd - mean).T @ (xd - mean) / len(xd)
    np.save(os.path.join(OUT, "gauss_data.npy"), x)
    np.save(os.path.join(OUT, "gauss_mean.npy"), mean)
    np.save(os.path.join(OUT, "gauss_cov.npy"), cov)
    ll_gauss = multivariate_normal(mean, cov + 1e-6 * np.eye(6)).logpdf(xd).mean()

    # probabilistic PCA, rank 4 of 30
    w = rng.normal(size=(4, 30))
    p = (rng.normal(size=(120, 4)) @ w + 0.1 * rng.normal(size=(120, 30))).astype(np.float32)
    pd = p.astype(np.float64)
    pm = pd.mean(0)
    c = (pd - pm).T @ (pd - pm) / len(pd)
    lam, u = np.linalg.eigh(c)
    lam, u = lam[::-1], u[:, ::-1]
    s2 = lam[4:].mean() + 1e-6
    uk = u[:, :4]
    ppca = uk @ np.diag(lam[:4] + 1e-6) @ uk.T + s2 * (np.eye(30) - uk @ uk.T)
    np.save(os.path.join(OUT, "ppca_data.npy"), p)
    np.save(os.path.join(OUT, "ppca_cov.npy"), ppca)
    ll_ppca = multivariate_normal(pm, ppca).logpdf(pd).mean()

    # a mixture of three
    centres = np.array([[0, 0, 0], [6, 0, 1], [0, 7, -2]], dtype=np.float64)
    parts = [rng.normal(size=(n, 3)) @ rng.normal(scale=0.7, size=(3, 3)) + c
             for n, c in zip((120, 100, 80), centres)]
    g = np.concatenate(parts).astype(np.float32)
    np.save(os.path.join(OUT, "gmm_data.npy"), g)
    gm = GaussianMixture(3, covariance_type="full", reg_covar=1e-6, tol=1e-10,
                         max_iter=1000, random_state=0).fit(g.astype(np.float64))
    ref = {"gauss_mean_log_lik": ll_gauss, "ppca_mean_log_lik": ll_ppca,
           "ppca_resid_var": s2, "gmm_mean_log_lik": gm.score(g.astype(np.float64)),
           "gmm_weights_sorted": sorted(gm.weights_.tolist())}
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(ref, f, indent=2)
        f.write("\n")
    print(json.dumps(ref, indent=2))


if __name__ == "__main__":
    main()
