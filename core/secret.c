/* secret.c - see secret.h. */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "i18n.h"
#include "util.h"

int
mp_secret_read_private(const char *path, const char *what, size_t max, char **out, size_t *len,
		       struct mp_err *err)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	ssize_t r;
	int fd, ret;

	*out = NULL;
	*len = 0;
	if (max == 0 || max == (size_t)-1)
		return mp_err_set(err, MP_EINVAL, _("%s: bad size limit"), path);
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return mp_err_set(err, errno == ENOENT ? MP_ENOTFOUND : MP_EIO, "%s: %s", path,
				  strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		ret = mp_err_set(err, MP_EINVAL, _("%s: not a regular file"), path);
		goto out;
	}
	/* Checked on the open descriptor, so a rename in between cannot fool it. */
	if ((st.st_mode & 077) != 0) {
		ret = mp_err_set(err, MP_EINVAL, _("%s: others can read %s; chmod 600 it first"),
				 path, what);
		goto out;
	}
	if ((buf = malloc(max + 1)) == NULL) {
		ret = mp_err_set(err, MP_ENOMEM, _("out of memory"));
		goto out;
	}
	while (n <= max) {
		r = read(fd, buf + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = mp_err_set(err, MP_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		ret = mp_err_set(err, MP_ETOOBIG, _("%s: too large for %s"), path, what);
		goto out;
	}
	/* A NUL byte would silently cut the secret short where it is used as a string. */
	if (memchr(buf, '\0', n) != NULL) {
		ret = mp_err_set(err, MP_EINVAL, _("%s: %s holds a NUL byte"), path, what);
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
	ret = 0;
out:
	if (buf != NULL) {
		explicit_bzero(buf, max + 1);
		free(buf);
	}
	close(fd);
	return ret;
}

int
mp_secret_read_file(const char *path, char **out, struct mp_err *err)
{
	char *all = NULL;
	size_t len = 0;
	int ret;

	*out = NULL;
	if ((ret = mp_secret_read_private(path, _("the password file"), MP_SECRET_MAX, &all, &len,
					  err)) != 0)
		return ret;
	len = strcspn(all, "\r\n");
	if (len == 0)
		ret = mp_err_set(err, MP_EINVAL, _("%s: the password file is empty"), path);
	else if ((*out = mp_strndup(all, len)) == NULL)
		ret = mp_err_set(err, MP_ENOMEM, _("out of memory"));
	mp_free_secret(all);
	return ret;
}

int
mp_secret_from_env(const char *name, char **out, struct mp_err *err)
{
	const char *v = getenv(name);

	*out = NULL;
	if (v == NULL || *v == '\0')
		return mp_err_set(err, MP_ENOTFOUND, _("$%s is not set"), name);
	if (strlen(v) > MP_SECRET_MAX)
		return mp_err_set(err, MP_ETOOBIG, _("$%s is too long"), name);
	if ((*out = mp_strdup_z(v)) == NULL)
		return mp_err_set(err, MP_ENOMEM, _("out of memory"));
	return 0;
}
